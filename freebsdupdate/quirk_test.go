// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/internal/transcript"
)

// probeOutput returns a quirk-probe fixture without its comment lines.
func probeOutput(t testing.TB, name string) []byte {
	t.Helper()
	var keep []string
	for _, l := range strings.Split(transcript.Read(t, name), "\n") {
		if !strings.HasPrefix(l, "#") && l != "" {
			keep = append(keep, l)
		}
	}
	return []byte(strings.Join(keep, "\n") + "\n")
}

func detect(t *testing.T, out []byte, exit int, ctx QuirkContext) map[QuirkID]Quirk {
	t.Helper()
	lines, err := ParseQuirkProbe(out, exit)
	if err != nil {
		t.Fatal(err)
	}
	m := map[QuirkID]Quirk{}
	for _, q := range DetectQuirks(lines, ctx) {
		m[q.ID] = q
	}
	if len(m) != 2 {
		t.Fatalf("DetectQuirks returned %d quirks, want 2", len(m))
	}
	return m
}

const backup = "/var/db/zupgrade/backup/freebsd-update.orig"

func TestQuirkProbeCommand(t *testing.T) {
	want := []string{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "-e", "--not-running-from-cron", "/usr/sbin/freebsd-update"}
	if diff := cmp.Diff(want, QuirkProbeCommand().Args); diff != "" {
		t.Errorf("probe (-want +got):\n%s", diff)
	}
}

func TestScriptOf(t *testing.T) {
	modern := []byte("42:P=\"[-+./:=,%@_[~[:alnum:]]\"\n3000:\t--not-running-from-cron)\n")
	old := []byte("1021:\tP=\"[-+./:=_[[:alnum:]]\"\n")
	for _, tt := range []struct {
		out  []byte
		want Script
		args []string
	}{
		{modern, Script{}, []string{"freebsd-update", "--not-running-from-cron", "fetch"}},
		{old, Script{NoCronOption: true}, []string{"freebsd-update", "fetch"}},
	} {
		lines, err := ParseQuirkProbe(tt.out, 0)
		if err != nil {
			t.Fatal(err)
		}
		s := ScriptOf(lines)
		if s != tt.want {
			t.Errorf("ScriptOf(%q) = %+v, want %+v", tt.out, s, tt.want)
		}
		if diff := cmp.Diff(tt.args, s.FetchCommand().Args); diff != "" {
			t.Errorf("fetch (-want +got):\n%s", diff)
		}
		up, err := s.UpgradeCommand(MustParseRelease("9.0-RELEASE"))
		if err != nil || up.Args[len(up.Args)-1] != "upgrade" || up.Args[len(up.Args)-3] != "-r" {
			t.Errorf("upgrade = %q, %v", up.Args, err)
		}
	}
}

func TestDetectQuirks(t *testing.T) {
	to15 := QuirkContext{Current: MustParseRelease("14.3-RELEASE-p5"), Target: MustParseRelease("15.0-RELEASE"), BackupPath: backup}
	to142 := QuirkContext{Current: MustParseRelease("14.1-RELEASE-p6"), Target: MustParseRelease("14.2-RELEASE"), BackupPath: backup}
	patch := QuirkContext{Current: MustParseRelease("14.1-RELEASE-p6"), BackupPath: backup}
	from8 := QuirkContext{Current: MustParseRelease("8.2-RELEASE"), Target: MustParseRelease("9.0-RELEASE"), BackupPath: backup}
	tests := []struct {
		name      string
		out       []byte
		exit      int
		ctx       QuirkContext
		metadata  QuirkState
		libsys    QuirkState
		fixLibsys bool
	}{
		{"15.x script, upgrade to 15", probeOutput(t, "quirk-probe-15.0-libsys.txt"), 0, to15, QuirkAbsent, QuirkAbsent, false},
		{"14.x script without libsys, upgrade to 15", probeOutput(t, "quirk-probe-14.1-no-libsys.txt"), 0, to15, QuirkAbsent, QuirkPresent, true},
		{"14.x script without libsys, minor upgrade", probeOutput(t, "quirk-probe-14.1-no-libsys.txt"), 0, to142, QuirkAbsent, QuirkAbsent, false},
		{"14.x script without libsys, patch run", probeOutput(t, "quirk-probe-14.1-no-libsys.txt"), 0, patch, QuirkAbsent, QuirkAbsent, false},
		{"8.x script", probeOutput(t, "quirk-probe-8.2-old-pattern.txt"), 0, from8, QuirkPresent, QuirkAbsent, false},
		{"nothing matched", nil, 1, to15, QuirkUnknown, QuirkPresent, true},
		{"pattern without =_", []byte("900:\tP=\"[-+./:[[:alnum:]]\"\n"), 0, to142, QuirkUnknown, QuirkAbsent, false},
		{"two patterns", []byte("900:\tP=\"[-+./:=_[[:alnum:]]\"\n950:\tP=\"[-+./:=,%@_[~[:alnum:]]\"\n"), 0, to142, QuirkUnknown, QuirkAbsent, false},
		{"intermediate pattern with %@", []byte("1010:\tP=\"[-+./:=%@_[[:alnum:]]\"\n"), 0, to142, QuirkAbsent, QuirkAbsent, false},
	}
	for _, tt := range tests {
		qs := detect(t, tt.out, tt.exit, tt.ctx)
		m, l := qs[QuirkMetadataPath], qs[QuirkLibsysOrder]
		if m.State != tt.metadata {
			t.Errorf("%s: metadata quirk %s (%s), want %s", tt.name, m.State, m.Detail, tt.metadata)
		}
		if l.State != tt.libsys {
			t.Errorf("%s: libsys quirk %s (%s), want %s", tt.name, l.State, l.Detail, tt.libsys)
		}
		for _, q := range []Quirk{m, l} {
			if q.Title == "" || q.Detail == "" || q.Verify == "" {
				t.Errorf("%s: %s lacks a title, detail or verification", tt.name, q.ID)
			}
			if (q.State == QuirkPresent) != (len(q.Fix) > 0) {
				t.Errorf("%s: %s applies=%v with %d fix commands", tt.name, q.ID, (q.State == QuirkPresent), len(q.Fix))
			}
		}
		if tt.fixLibsys {
			want := [][]string{FetchCommand().Args, InstallCommand().Args}
			var got [][]string
			for _, c := range l.Fix {
				got = append(got, c.Args)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: libsys fix (-want +got):\n%s", tt.name, diff)
			}
		}
	}
}

func TestMetadataPathFixAndVerify(t *testing.T) {
	out := probeOutput(t, "quirk-probe-8.2-old-pattern.txt")
	ctx := QuirkContext{Current: MustParseRelease("8.2-RELEASE"), Target: MustParseRelease("9.0-RELEASE"), BackupPath: backup}
	q := detect(t, out, 0, ctx)[QuirkMetadataPath]
	if !(q.State == QuirkPresent) {
		t.Fatalf("old pattern not detected: %+v", q)
	}
	if len(q.Evidence) != 1 || q.Evidence[0].Number != 1122 {
		t.Errorf("Evidence = %+v", q.Evidence)
	}
	want := [][]string{
		{"cp", "-p", "/usr/sbin/freebsd-update", backup},
		{"sed", "-i", "", "-e", "s/=_/=%@_/", "/usr/sbin/freebsd-update"},
	}
	var got [][]string
	for _, c := range q.Fix {
		got = append(got, c.Args)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fix (-want +got):\n%s", diff)
	}

	// What sed does to the line (first match per line), and what the
	// probe then shows: the quirk is gone, and a second run changes
	// nothing.
	patched := strings.Replace(string(out), "=_", "=%@_", 1)
	after := DetectQuirks(mustParseProbe(t, patched), ctx)
	if !QuirkResolved(QuirkMetadataPath, after) {
		t.Errorf("after the fix the quirk remains: %+v", after)
	}
	if again := strings.Replace(patched, "=_", "=%@_", 1); again != patched {
		t.Errorf("the fix is not idempotent: %q", again)
	}
	if QuirkResolved(QuirkMetadataPath, DetectQuirks(mustParseProbe(t, string(out)), ctx)) {
		t.Error("QuirkResolved before the fix")
	}
	if QuirkResolved("no-such-quirk", after) {
		t.Error("QuirkResolved for an unknown quirk")
	}
}

func mustParseProbe(t *testing.T, out string) []ProbeLine {
	t.Helper()
	lines, err := ParseQuirkProbe([]byte(out), 0)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestParseQuirkProbeErrors(t *testing.T) {
	tests := []struct {
		name      string
		out       string
		exit      int
		wantParse bool
	}{
		{"script missing", "", 2, false},
		{"no line number", "\tP=\"[-+./:=_[[:alnum:]]\"\n", 0, true},
		{"line zero", "0:\tP=\"[x]\"\n", 0, true},
		{"unrelated line", "12:\techo hello\n", 0, true},
		{"matches claimed, none printed", "", 0, true},
		{"no match claimed, lines printed", "12:\tlibsys\n", 1, true},
		{"file name prefix (several files)", "/usr/sbin/freebsd-update:12:\tlibsys\n", 0, true},
	}
	for _, tt := range tests {
		_, err := ParseQuirkProbe([]byte(tt.out), tt.exit)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		var pe *host.ParseError
		if errors.As(err, &pe) != tt.wantParse {
			t.Errorf("%s: error %v; ParseError wanted: %v", tt.name, err, tt.wantParse)
		}
	}
}

func FuzzParseQuirkProbe(f *testing.F) {
	for _, name := range []string{"quirk-probe-15.0-libsys.txt", "quirk-probe-14.1-no-libsys.txt", "quirk-probe-8.2-old-pattern.txt"} {
		f.Add(string(probeOutput(f, name)), 0)
	}
	f.Add("", 1)
	f.Fuzz(func(t *testing.T, s string, exit int) {
		lines, err := ParseQuirkProbe([]byte(s), exit)
		if err != nil {
			return
		}
		for _, q := range DetectQuirks(lines, QuirkContext{Current: MustParseRelease("14.3-RELEASE"), Target: MustParseRelease("15.0-RELEASE"), BackupPath: backup}) {
			if q.State != QuirkAbsent && q.State != QuirkPresent && q.State != QuirkUnknown {
				t.Fatalf("%s: state %d", q.ID, q.State)
			}
			if (q.State == QuirkPresent) != (len(q.Fix) > 0) {
				t.Fatalf("%s applies=%v with %d fix commands", q.ID, (q.State == QuirkPresent), len(q.Fix))
			}
		}
	})
}

func TestLibsysErrataRelease(t *testing.T) {
	for _, tt := range []struct {
		running, via string
		patches      bool
	}{
		{"13.5-RELEASE-p2", "13.5-RELEASE", true},
		{"14.3-RELEASE", "14.3-RELEASE", true},
		{"14.2-RELEASE-p4", "14.3-RELEASE", false},
		{"14.1-RELEASE", "14.3-RELEASE", false},
		{"13.4-RELEASE", "14.3-RELEASE", false},
		{"12.4-RELEASE-p7", "14.3-RELEASE", false},
	} {
		via, patches := LibsysErrataRelease(MustParseRelease(tt.running))
		if via.String() != tt.via || patches != tt.patches {
			t.Errorf("LibsysErrataRelease(%s) = %s, %v; want %s, %v", tt.running, via, patches, tt.via, tt.patches)
		}
	}
}
