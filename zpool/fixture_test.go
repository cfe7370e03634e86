// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/host"
)

// readFixture returns a testdata file without its leading "#" lines (the
// source note and the prompt), i.e. the pure command output.
func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return stripHeader(string(b))
}

func stripHeader(s string) string {
	for strings.HasPrefix(s, "#") {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return ""
		}
		s = s[i+1:]
	}
	return s
}

// fixtures lists the testdata files whose names start with prefix.
func fixtures(t testing.TB, prefix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("testdata", prefix+"*"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no testdata files %s*: %v", prefix, err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

// wantParseError checks that err is a *host.ParseError for command at line.
func wantParseError(t *testing.T, err error, command string, line int) *host.ParseError {
	t.Helper()
	var pe *host.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want *host.ParseError", err)
	}
	if pe.Command != command || pe.Line != line {
		t.Fatalf("ParseError{Command %q, Line %d} (%v), want %q line %d", pe.Command, pe.Line, pe, command, line)
	}
	return pe
}

// requireParseError fails unless err is a *host.ParseError (fuzz targets).
func requireParseError(t *testing.T, err error) {
	t.Helper()
	var pe *host.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error of type %T, want *host.ParseError: %v", err, err)
	}
}
