// SPDX-License-Identifier: BSD-2-Clause

package pkgng

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/internal/transcript"
)

func TestParseABI(t *testing.T) {
	tests := []struct {
		in   string
		want ABI
	}{
		{"FreeBSD:14:amd64", ABI{OS: "FreeBSD", Major: 14, Arch: "amd64"}},
		{"FreeBSD:15:aarch64", ABI{OS: "FreeBSD", Major: 15, Arch: "aarch64"}},
		{"FreeBSD:13:*", ABI{OS: "FreeBSD", Major: 13, Arch: "*"}},
		{"FreeBSD:14:armv7", ABI{OS: "FreeBSD", Major: 14, Arch: "armv7"}},
		{"freebsd:10:x86:64", ABI{OS: "FreeBSD", Major: 10, Arch: "amd64"}},
		{"freebsd:11:x86:32", ABI{OS: "FreeBSD", Major: 11, Arch: "i386"}},
		{"freebsd:12:aarch64:64", ABI{OS: "FreeBSD", Major: 12, Arch: "aarch64"}},
		{"freebsd:12:armv7:32:el:eabi:hardfp", ABI{OS: "FreeBSD", Major: 12, Arch: "armv7"}},
		{"freebsd:14:*", ABI{OS: "FreeBSD", Major: 14, Arch: "*"}},
		{"DragonFly:6:amd64", ABI{OS: "DragonFly", Major: 6, Arch: "amd64"}},
	}
	for _, tt := range tests {
		got, err := ParseABI(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseABI(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "FreeBSD", "FreeBSD:14", "FreeBSD:x:amd64", "FreeBSD:014:amd64", "FreeBSD:0:amd64",
		"FreeBSD:-1:amd64", "FreeBSD:14:sparc64x", "FreeBSD:14:amd64:extra", "Free BSD:14:amd64", "FreeBSD:14:x86:16", ":14:amd64"} {
		if got, err := ParseABI(bad); err == nil {
			t.Errorf("ParseABI(%q) = %+v, want an error", bad, got)
		}
	}
	if s := (ABI{OS: "FreeBSD", Major: 14, Arch: "amd64"}).String(); s != "FreeBSD:14:amd64" {
		t.Errorf("String = %q", s)
	}
}

func TestExpectedABI(t *testing.T) {
	tests := []struct {
		major   int
		machine string
		want    string
	}{
		{15, "amd64", "FreeBSD:15:amd64"},
		{15, "arm64", "FreeBSD:15:aarch64"},
		{14, "aarch64", "FreeBSD:14:aarch64"},
		{14, "armv7", "FreeBSD:14:armv7"},
		{13, "i386", "FreeBSD:13:i386"},
	}
	for _, tt := range tests {
		got, err := ExpectedABI(tt.major, tt.machine)
		if err != nil || got.String() != tt.want {
			t.Errorf("ExpectedABI(%d, %q) = %s, %v; want %s", tt.major, tt.machine, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		major   int
		machine string
	}{{0, "amd64"}, {15, ""}, {15, "arm"}, {15, "powerpc64x"}, {15, "x86_64"}} {
		if got, err := ExpectedABI(bad.major, bad.machine); err == nil {
			t.Errorf("ExpectedABI(%d, %q) = %s, want an error", bad.major, bad.machine, got)
		}
	}
}

func TestParseQueryAndStale(t *testing.T) {
	out := "pkg FreeBSD:14:amd64\nca_root_nss FreeBSD:15:amd64\nfont-awesome FreeBSD:14:*\nnoto-basic FreeBSD:15:*\nperl5.36 FreeBSD:15:amd64\nold-tool freebsd:10:x86:64\n"
	pkgs, err := ParseQuery([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 6 || pkgs[0].Name != "pkg" || pkgs[5].RawABI != "freebsd:10:x86:64" || pkgs[5].ABI.Arch != "amd64" {
		t.Fatalf("ParseQuery = %+v", pkgs)
	}
	want15, _ := ExpectedABI(15, "amd64")
	var stale []string
	for _, p := range Stale(pkgs, want15) {
		stale = append(stale, p.Name)
	}
	if diff := cmp.Diff([]string{"pkg", "font-awesome", "old-tool"}, stale); diff != "" {
		t.Errorf("Stale for 15 (-want +got):\n%s", diff)
	}
	if got := Stale(pkgs, ABI{OS: "FreeBSD", Major: 15, Arch: "aarch64"}); len(got) != 5 {
		t.Errorf("on aarch64 every package but the noarch one for 15 is stale, got %d", len(got))
	}
	if got, err := ParseQuery(nil); err != nil || got != nil {
		t.Errorf("ParseQuery(empty) = %v, %v", got, err)
	}
	if got, err := ParseQuery([]byte("pkg FreeBSD:15:amd64\r\n")); err != nil || len(got) != 1 {
		t.Errorf("ParseQuery with CRLF = %v, %v", got, err)
	}
	if diff := cmp.Diff([]string{"pkg", "query", "%n %q"}, QueryArgs()); diff != "" {
		t.Errorf("QueryArgs (-want +got):\n%s", diff)
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
	}{
		{"pkg\n", 1},
		{"pkg FreeBSD:15:amd64\nbroken line with spaces\n", 2},
		{"pkg FreeBSD:15\n", 1},
		{"pkg: warning: database version 36 is newer than libpkg(3) 35\n", 1},
		{"pkg FreeBSD:15:amd64\n\npkg2 FreeBSD:15:amd64\n", 2},
	}
	for _, tt := range tests {
		_, err := ParseQuery([]byte(tt.in))
		var pe *host.ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line || pe.Command != QueryCommand {
			t.Errorf("ParseQuery(%q) = %v, want a *host.ParseError on line %d", tt.in, err, tt.line)
		}
	}
}

func TestFromPorts(t *testing.T) {
	out := "pkg unknown-repository\nportmaster unknown-repository\ncurl FreeBSD\nlocaltool unknown-repository\nmytool poudriere\n"
	got, err := FromPorts([]byte(out))
	if diff := cmp.Diff([]string{"portmaster", "localtool"}, got); diff != "" || err != nil {
		t.Errorf("FromPorts (-want +got):\n%s%v", diff, err)
	}
	if got, err := FromPorts(nil); got != nil || err != nil {
		t.Errorf("FromPorts(empty) = %v, %v", got, err)
	}
	var pe *host.ParseError
	if _, err := FromPorts([]byte("curl FreeBSD\nbroken\n")); !errors.As(err, &pe) || pe.Line != 2 || pe.Command != RepoQueryCommand {
		t.Errorf("FromPorts of a bad line: %v", err)
	}
	if diff := cmp.Diff([]string{"pkg", "query", "%n %R"}, RepoQueryArgs()); diff != "" || !host.ReadOnly(RepoQueryArgs()) {
		t.Errorf("RepoQueryArgs (-want +got):\n%s", diff)
	}
}

func TestActivation(t *testing.T) {
	for exit, want := range map[int]Activation{0: Activated, 1: NotActivated, 70: NotActivated, 127: NotInstalled} {
		if got := ParseActivation(exit); got != want {
			t.Errorf("ParseActivation(%d) = %s, want %s", exit, got, want)
		}
	}
	if diff := cmp.Diff([]string{"pkg", "-N"}, ActivationArgs()); diff != "" {
		t.Error(diff)
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		cmd  Command
		args []string
		env  []string
	}{
		{BootstrapCommand(), []string{"pkg-static", "bootstrap", "-f"}, []string{"ASSUME_ALWAYS_YES=yes", "IGNORE_OSVERSION=yes"}},
		{CompatInstallCommand(13), []string{"pkg-static", "install", "-y", "misc/compat13x"}, []string{"ASSUME_ALWAYS_YES=yes", "IGNORE_OSVERSION=yes"}},
		{UpgradeCommand(), []string{"pkg-static", "upgrade", "-f", "-y"}, []string{"ASSUME_ALWAYS_YES=yes", "IGNORE_OSVERSION=yes"}},
		{PortmasterCommand(), []string{"portmaster", "-aPf", "--no-confirm", "-G", "-D"}, []string{"ASSUME_ALWAYS_YES=yes", "IGNORE_OSVERSION=yes", "BATCH=yes"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.args, tt.cmd.Args); diff != "" {
			t.Errorf("Args (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(tt.env, tt.cmd.Env); diff != "" {
			t.Errorf("%q Env (-want +got):\n%s", tt.cmd.Args, diff)
		}
		if tt.cmd.Stdin != nil {
			t.Errorf("%q: Stdin %q", tt.cmd.Args, tt.cmd.Stdin)
		}
	}
	b := BootstrapCommand()
	b.Env[0] = "ASSUME_ALWAYS_YES=no"
	if UpgradeCommand().Env[0] != "ASSUME_ALWAYS_YES=yes" {
		t.Error("commands share their Env slice")
	}
}

const fixtureOSVersion = "pkg-osversion-mismatch-prompt.txt"

func TestClassifyOSVersionFixture(t *testing.T) {
	// Current pkg: measured against the userland, answered y by a human.
	r := transcript.RunOf(t, fixtureOSVersion, "pkg-static bootstrap -f -y", 0)
	o := Classify([]byte(r.Output), nil, 0)
	want := &OSVersionMismatch{Package: "pkg", PackageVersion: 1305000, RunningVersion: 1303001, RunningOf: "userland", Prompted: true}
	if diff := cmp.Diff(want, o.Mismatch); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if o.MajorUpgradeDetected || len(o.MissingLibraries) > 0 {
		t.Errorf("MajorUpgradeDetected = %v, MissingLibraries = %q", o.MajorUpgradeDetected, o.MissingLibraries)
	}
	if len(o.Evidence) != 4 {
		t.Errorf("Evidence = %q", o.Evidence)
	}

	// Older pkg: measured against the kernel; the prompt waits.
	r = transcript.RunOf(t, fixtureOSVersion, "pkg bootstrap -y", 0)
	// The transcript ends with the warning the fixture quotes from
	// another report; leave it out of this run.
	var own []string
	for _, l := range strings.Split(r.Output, "\n") {
		if !strings.Contains(l, "Major OS version") {
			own = append(own, l)
		}
	}
	o = Classify([]byte(strings.Join(own, "\n")), nil, 1)
	if o.MajorUpgradeDetected {
		t.Error("MajorUpgradeDetected without the warning")
	}
	want = &OSVersionMismatch{Package: "pkg", PackageVersion: 1301000, RunningVersion: 1300139, RunningOf: "kernel", Prompted: true}
	if diff := cmp.Diff(want, o.Mismatch); diff != "" {
		t.Errorf("older pkg mismatch (-want +got):\n%s", diff)
	}
	if o.ExitCode != 1 {
		t.Errorf("ExitCode = %d", o.ExitCode)
	}

	// The warning after a major upgrade, as quoted at the end of the
	// fixture, on standard error.
	var warning string
	for _, l := range strings.Split(transcript.Read(t, fixtureOSVersion), "\n") {
		if strings.Contains(l, "Major OS version upgrade detected") {
			warning = l
		}
	}
	o = Classify([]byte("Updating FreeBSD repository catalogue...\n"), []byte(warning+"\n"), 0)
	if !o.MajorUpgradeDetected || o.Mismatch != nil || len(o.Evidence) != 1 {
		t.Errorf("major upgrade warning: %+v", o)
	}
}

func TestClassifyNothingToReport(t *testing.T) {
	// pkg's output during the real 14.3 to 15.0 upgrade carries none of
	// the findings, and neither does a pkgbase upgrade.
	for _, r := range []transcript.Run{
		transcript.RunOf(t, "freebsd-update-major-upgrade-14.3-to-15.0-full-sequence.txt", "pkg bootstrap -f", 0),
		transcript.RunOf(t, "freebsd-update-major-upgrade-14.3-to-15.0-full-sequence.txt", "pkg upgrade", 0),
		transcript.RunOf(t, "pkgbase-minor-upgrade-15.0-to-15.1.txt", "pkg -oABI", 0),
	} {
		o := Classify([]byte(r.Output), nil, 0)
		if o.Mismatch != nil || o.MajorUpgradeDetected || len(o.MissingLibraries) > 0 || len(o.Evidence) > 0 {
			t.Errorf("%s: %+v", r.Command, o)
		}
	}
}

func TestClassifyMissingLibrary(t *testing.T) {
	o := Classify(nil, []byte("ld-elf.so.1: Shared object \"libssl.so.111\" not found, required by \"pkg\"\n"), 1)
	if diff := cmp.Diff([]string{"libssl.so.111"}, o.MissingLibraries); diff != "" {
		t.Errorf("MissingLibraries (-want +got):\n%s", diff)
	}
}

func TestStallLine(t *testing.T) {
	for _, l := range []string{
		"Ignore the mismatch and continue? [y/N]: ",
		"Proceed with this action? [y/N]:",
		"Do you want to fetch and install it now? [y/N]: y",
	} {
		got := StallLine(l)
		if want := !strings.HasSuffix(l, " y"); got != want {
			t.Errorf("StallLine(%q) = %v, want %v", l, got, want)
		}
	}
	for _, l := range strings.Split(transcript.RunOf(t, "freebsd-update-major-upgrade-14.3-to-15.0-full-sequence.txt", "pkg upgrade", 0).Output, "\n") {
		if StallLine(l) != strings.HasPrefix(l, "Proceed with this action?") {
			t.Errorf("StallLine(%q) = %v", l, StallLine(l))
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("pkg FreeBSD:14:amd64\nca_root_nss FreeBSD:15:amd64\nfont-awesome FreeBSD:14:*\n")
	f.Add("old-tool freebsd:10:x86:64\n")
	f.Fuzz(func(t *testing.T, s string) {
		pkgs, err := ParseQuery([]byte(s))
		if err != nil {
			var pe *host.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *host.ParseError", err)
			}
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.ABI.IsZero() || p.ABI.Major <= 0 || p.ABI.Arch == "" {
				t.Fatalf("bad package %+v from %q", p, s)
			}
			again, err := ParseABI(p.ABI.String())
			if err != nil || again != p.ABI {
				t.Fatalf("ABI %s does not round-trip: %+v, %v", p.ABI, again, err)
			}
		}
	})
}

func FuzzClassify(f *testing.F) {
	f.Add(transcript.RunOf(f, fixtureOSVersion, "pkg-static bootstrap -f -y", 0).Output, "", 0)
	f.Add(transcript.RunOf(f, fixtureOSVersion, "pkg bootstrap -y", 0).Output, "", 1)
	f.Add("", "pkg: Warning: Major OS version upgrade detected.  Running \"pkg bootstrap -f\" recommended\n", 0)
	f.Fuzz(func(t *testing.T, stdout, stderr string, exit int) {
		o := Classify([]byte(stdout), []byte(stderr), exit)
		if (o.Mismatch != nil || o.MajorUpgradeDetected || len(o.MissingLibraries) > 0) != (len(o.Evidence) > 0) {
			t.Fatalf("findings and evidence disagree: %+v", o)
		}
	})
}

func TestReadOnlyMatchesHost(t *testing.T) {
	for _, args := range [][]string{ActivationArgs(), QueryArgs()} {
		if !host.ReadOnly(args) {
			t.Errorf("%q is not read-only to the host package", args)
		}
	}
	for _, c := range []Command{BootstrapCommand(), UpgradeCommand(), PortmasterCommand()} {
		if host.ReadOnly(c.Args) {
			t.Errorf("%q passes as read-only", c.Args)
		}
	}
}
