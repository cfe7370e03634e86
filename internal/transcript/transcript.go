// SPDX-License-Identifier: BSD-2-Clause

// Package transcript cuts the fixtures of the parsers' tests, verbatim
// copies of real terminal sessions, into the commands typed and what each
// printed. It serves tests only; no program imports it.
//
// A fixture starts with comment lines ("# Source: ..."), then prompt lines
// with the command typed, each followed by its output.
package transcript

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Run is one command of a transcript and its output.
type Run struct {
	Command string
	Output  string
}

// promptRE matches the prompts the fixtures show: "# cmd", "root@host:~ #
// cmd", "root@host:~ cmd", "user@host:~ %>cmd", "$ cmd", "+ cmd" and
// "[12:33 host root ~] # cmd".
var promptRE = regexp.MustCompile(`^(?:# |\$ |\+ |\[[^\]]*\] # |[a-z]+@[^ ]+ (?:# |%>)?|[a-z]+@[^ ]+ %>)(.*)$`)

// programs are the commands a prompt line may start; a "# " line starting
// anything else is a comment.
var programs = map[string]bool{
	"freebsd-update": true, "/usr/sbin/freebsd-update": true, "freebsd-version": true,
	"bectl": true, "beadm": true, "pkg": true, "pkg-static": true, "reboot": true,
	"date": true, "uname": true, "zfs": true, "zpool": true, "mount": true,
	"geli": true, "gmirror": true,
}

// Read returns a fixture of the calling package's testdata directory.
func Read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Cut cuts a fixture into runs. Comment lines are dropped.
func Cut(t testing.TB, name string) []Run {
	t.Helper()
	var runs []Run
	var out []string
	flush := func() {
		if len(runs) > 0 {
			runs[len(runs)-1].Output = strings.Join(out, "\n") + "\n"
		}
		out = nil
	}
	for _, line := range strings.Split(strings.TrimSuffix(Read(t, name), "\n"), "\n") {
		if m := promptRE.FindStringSubmatch(line); m != nil {
			first, _, _ := strings.Cut(m[1], " ")
			if programs[first] {
				flush()
				runs = append(runs, Run{Command: m[1]})
				continue
			}
			if strings.HasPrefix(line, "# ") || line == "#" {
				continue
			}
		}
		if strings.HasPrefix(line, "#") && len(runs) == 0 {
			continue
		}
		out = append(out, line)
	}
	flush()
	if len(runs) == 0 {
		t.Fatalf("%s: no commands found", name)
	}
	return runs
}

// RunOf returns the n-th (0-based) run of a transcript whose command starts
// with prefix.
func RunOf(t testing.TB, name, prefix string, n int) Run {
	t.Helper()
	for _, r := range Cut(t, name) {
		if strings.HasPrefix(r.Command, prefix) {
			if n == 0 {
				return r
			}
			n--
		}
	}
	t.Fatalf("%s: no run %q number %d", name, prefix, n)
	return Run{}
}
