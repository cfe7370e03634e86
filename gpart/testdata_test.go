// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/zupgrade/zupgrade/host"
)

// testOutput returns the member of testdata/<archive> whose name is member:
// the verbatim output of one command. The archive's comment names the source.
func testOutput(t testing.TB, archive, member string) string {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", archive))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		if f.Name == member {
			return string(f.Data)
		}
	}
	t.Fatalf("testdata/%s has no member %q", archive, member)
	return ""
}

// seedOutputs adds to a fuzz corpus every member of every testdata archive
// whose member name starts with prefix.
func seedOutputs(f *testing.F, prefix string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil {
		f.Fatal(err)
	}
	n := 0
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range ar.Files {
			if strings.HasPrefix(m.Name, prefix) {
				f.Add(string(m.Data))
				n++
			}
		}
	}
	if n == 0 {
		f.Fatalf("no testdata member starts with %q", prefix)
	}
}

// wantParseError fails unless err is a *host.ParseError for command at line
// (line < 0: any line).
func wantParseError(t *testing.T, err error, command string, line int) {
	t.Helper()
	var pe *host.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want *host.ParseError", err, err)
	}
	if pe.Command != command {
		t.Errorf("ParseError.Command = %q, want %q", pe.Command, command)
	}
	if line >= 0 && pe.Line != line {
		t.Errorf("ParseError.Line = %d, want %d (%v)", pe.Line, line, pe)
	}
}
