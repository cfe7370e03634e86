// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"errors"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/internal/transcript"
)

func TestParseVersionsKRUFixtureStates(t *testing.T) {
	// The states of freebsd-version-kru-states.txt, (A) to (G).
	want := []Versions{
		{Kernel: MustParseRelease("14.3-RELEASE"), Running: MustParseRelease("14.3-RELEASE"), Userland: MustParseRelease("14.3-RELEASE")},
		{Kernel: MustParseRelease("14.3-RELEASE-p5"), Running: MustParseRelease("14.3-RELEASE"), Userland: MustParseRelease("14.3-RELEASE-p6")},
		{Kernel: MustParseRelease("14.3-RELEASE-p5"), Running: MustParseRelease("14.3-RELEASE-p5"), Userland: MustParseRelease("14.3-RELEASE-p6")},
		{Kernel: MustParseRelease("15.0-RELEASE"), Running: MustParseRelease("14.3-RELEASE-p5"), Userland: MustParseRelease("14.3-RELEASE-p6")},
		{Kernel: MustParseRelease("15.0-RELEASE"), Running: MustParseRelease("15.0-RELEASE"), Userland: MustParseRelease("15.0-RELEASE")},
		{Kernel: MustParseRelease("13.2-RELEASE"), Running: MustParseRelease("13.2-RELEASE"), Userland: MustParseRelease("13.1-RELEASE-p7")},
		{Kernel: MustParseRelease("14.1-RELEASE-p6"), Running: MustParseRelease("14.1-RELEASE-p6"), Userland: MustParseRelease("14.1-RELEASE-p6")},
	}
	bs := blocks(t, "freebsd-version-kru-states.txt")
	if len(bs) != len(want) {
		t.Fatalf("%d states in the fixture, want %d", len(bs), len(want))
	}
	for i, b := range bs {
		got, err := ParseVersionsKRU([]byte(b))
		if err != nil {
			t.Errorf("state %c: %v", 'A'+i, err)
			continue
		}
		if got != want[i] {
			t.Errorf("state %c = %+v, want %+v", 'A'+i, got, want[i])
		}
	}
}

func TestParseVersionsFromTranscripts(t *testing.T) {
	tests := []struct {
		fixture, command string
		n                int
		want             Versions
	}{
		{"freebsd-update-major-upgrade-14.3-to-15.0-full-sequence.txt", "freebsd-version -kru", 0,
			Versions{Kernel: MustParseRelease("15.0-RELEASE"), Running: MustParseRelease("14.3-RELEASE-p5"), Userland: MustParseRelease("14.3-RELEASE-p6")}},
		{"freebsd-update-major-upgrade-14.3-to-15.0-full-sequence.txt", "freebsd-version -kru", 1,
			Versions{Kernel: MustParseRelease("15.0-RELEASE"), Running: MustParseRelease("15.0-RELEASE"), Userland: MustParseRelease("15.0-RELEASE")}},
		{"freebsd-update-install-be-snapshot-interrupted-13.2.txt", "freebsd-version -kru", 0,
			Versions{Kernel: MustParseRelease("13.2-RELEASE"), Running: MustParseRelease("13.2-RELEASE"), Userland: MustParseRelease("13.1-RELEASE-p7")}},
	}
	for _, tt := range tests {
		r := transcript.RunOf(t, tt.fixture, tt.command, tt.n)
		// A transcript run ends at the next prompt; blank separator
		// lines belong to the session, not to freebsd-version.
		out := strings.TrimRight(r.Output, "\n") + "\n"
		got, err := ParseVersionsKRU([]byte(out))
		if err != nil {
			t.Errorf("%s run %d: %v", tt.fixture, tt.n, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s run %d = %+v, want %+v", tt.fixture, tt.n, got, tt.want)
		}
	}
}

func TestParseVersionsVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Versions
	}{
		{"no final newline", "14.2-RELEASE\n14.2-RELEASE\n14.2-RELEASE-p1",
			Versions{Kernel: MustParseRelease("14.2-RELEASE"), Running: MustParseRelease("14.2-RELEASE"), Userland: MustParseRelease("14.2-RELEASE-p1")}},
		{"trailing spaces and tabs", "14.2-RELEASE \t\n14.2-RELEASE  \n14.2-RELEASE-p1 \n",
			Versions{Kernel: MustParseRelease("14.2-RELEASE"), Running: MustParseRelease("14.2-RELEASE"), Userland: MustParseRelease("14.2-RELEASE-p1")}},
		{"CRLF", "15.0-BETA2\r\n15.0-BETA2\r\n15.0-BETA2\r\n",
			Versions{Kernel: MustParseRelease("15.0-BETA2"), Running: MustParseRelease("15.0-BETA2"), Userland: MustParseRelease("15.0-BETA2")}},
		{"stable host", "14.1-STABLE\n14.1-STABLE\n14.1-STABLE\n",
			Versions{Kernel: MustParseRelease("14.1-STABLE"), Running: MustParseRelease("14.1-STABLE"), Userland: MustParseRelease("14.1-STABLE")}},
	}
	for _, tt := range tests {
		got, err := ParseVersionsKRU([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestParseVersionsErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
	}{
		{"empty", "", 0},
		{"blank", " \n", 0},
		{"two lines for -kru", "14.2-RELEASE\n14.2-RELEASE\n", 0},
		{"four lines", "14.2-RELEASE\n14.2-RELEASE\n14.2-RELEASE\n14.2-RELEASE\n", 0},
		{"joined on one line", "14.1-RELEASE-p6 14.1-RELEASE-p6 14.1-RELEASE-p6\n", 0},
		{"blank line inside", "14.2-RELEASE\n\n14.2-RELEASE\n", 2},
		{"garbage", "14.2-RELEASE\nfreebsd-version: not found\n14.2-RELEASE\n", 2},
		{"usage", "usage: freebsd-version [-kru] [-j jail]\n", 0},
	}
	for _, tt := range tests {
		cmd := VersionKRUCommand
		_, err := ParseVersionsKRU([]byte(tt.in))
		var pe *host.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want a *host.ParseError", tt.name, err)
			continue
		}
		if pe.Command != cmd || pe.Line != tt.wantLine {
			t.Errorf("%s: ParseError{Command: %q, Line: %d}, want {%q, %d}", tt.name, pe.Command, pe.Line, cmd, tt.wantLine)
		}
	}
}

func TestVersionsNewest(t *testing.T) {
	// freebsd-update names its boot environment after the newest of -ku.
	v := Versions{Kernel: MustParseRelease("15.0-RELEASE"), Userland: MustParseRelease("14.3-RELEASE-p6")}
	if got := v.Newest(); got != MustParseRelease("15.0-RELEASE") {
		t.Errorf("Newest = %s", got)
	}
	v = Versions{Kernel: MustParseRelease("14.3-RELEASE-p5"), Running: MustParseRelease("14.3-RELEASE"), Userland: MustParseRelease("14.3-RELEASE-p6")}
	if got := v.Newest(); got != MustParseRelease("14.3-RELEASE-p6") {
		t.Errorf("Newest = %s", got)
	}
}

func FuzzParseVersions(f *testing.F) {
	for _, s := range blocks(f, "freebsd-version-kru-states.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersionsKRU([]byte(s))
		if err != nil {
			var pe *host.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *host.ParseError", err)
			}
			return
		}
		if v.Kernel.IsZero() || v.Running.IsZero() || v.Userland.IsZero() {
			t.Fatalf("ParseVersionsKRU(%q) succeeded with a zero release: %+v", s, v)
		}
	})
}
