// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// worldUpgraded takes a machine through freebsd-update upgrade, install #1,
// the reboot and install #2: the new world runs, packages are still built
// for the old one.
func (tm *testMachine) worldUpgraded(target string) {
	tm.t.Helper()
	tm.env["PAGER"] = "cat"
	tm.mustOK("", tm.freebsdUpdate("-r", target, "upgrade")...)
	tm.mustOK("", tm.freebsdUpdate("install")...)
	tm.reboot(BootOptions{})
	tm.mustOK("", tm.freebsdUpdate("install")...)
}

// TestPkgVersionFollowsRelease checks the pkg(8) a host has by default:
// the last one released before its release, unless the spec names one.
func TestPkgVersionFollowsRelease(t *testing.T) {
	for _, tt := range []struct {
		spec Spec
		want string
	}{
		{Spec{Preset: "bios", Release: "12.2-RELEASE"}, "1.15.10"},
		{Spec{Preset: "bios", Release: "13.2-RELEASE"}, "1.19.1"},
		{Spec{Preset: "bios", Release: "13.3-RELEASE"}, "1.20.9"},
		{Spec{Preset: "bios", Release: "14.2-RELEASE"}, "1.21.3"},
		{Spec{Preset: "bios", Release: "15.0-RELEASE"}, "2.4.2"},
		{Spec{Preset: "bios", Release: "14.2-RELEASE", PkgVersion: "1.20.9"}, "1.20.9"},
	} {
		t.Run(tt.spec.Release+tt.spec.PkgVersion, func(t *testing.T) {
			tm := newMachine(t, tt.spec)
			if got := tm.must("pkg", "query", "%n %v"); !strings.Contains(got, "pkg "+tt.want+"\n") {
				t.Errorf("%s (pkg_version %q): pkg query says\n%s\nwant pkg %s", tt.spec.Release, tt.spec.PkgVersion, got, tt.want)
			}
		})
	}
	if _, err := (Spec{PkgVersion: "1.20"}).normalized(); err == nil {
		t.Error("pkg_version 1.20 accepted")
	}
}

// TestPkgBootstrapCommandLine checks what each pkg(8) accepts after
// `bootstrap`, and that `bootstrap -f` with ASSUME_ALWAYS_YES works on all.
func TestPkgBootstrapCommandLine(t *testing.T) {
	for _, tt := range []struct {
		pkg      string
		args     []string
		code     int
		reinstal bool
		stderr   string
	}{
		{"1.20.9", []string{"-f", "-y"}, 1, false, "pkg: unknown command: bootstrap\n\nFor more information on available commands and options see 'pkg help'.\n"},
		{"1.20.9", []string{"-y"}, 1, false, "pkg: unknown command: bootstrap\n"},
		{"1.20.9", []string{"-f"}, 0, true, ""},
		{"1.20.9", nil, 0, false, ""},
		{"1.21.3", []string{"-f", "-y"}, 0, true, ""},
		{"1.21.3", []string{"-y"}, 1, false, "pkg: unknown command: bootstrap\n"},
		{"1.21.3", []string{"-x"}, 1, false, "pkg-static: illegal option -- x\npkg-static: Invalid argument provided\n"},
		{"2.4.2", []string{"-y"}, 0, false, ""},
		{"2.4.2", []string{"-f"}, 0, true, ""},
	} {
		t.Run(tt.pkg+strings.Join(tt.args, ""), func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", PkgVersion: tt.pkg, Clock: "2025-06-01T00:00:00Z"})
			tm.env["ASSUME_ALWAYS_YES"] = "yes"
			r := tm.run(append([]string{"pkg-static", "bootstrap"}, tt.args...)...)
			if r.code != tt.code || !strings.HasPrefix(r.err, tt.stderr) {
				t.Errorf("pkg %s: pkg-static bootstrap %q: %v, want exit %d and %q", tt.pkg, tt.args, r, tt.code, tt.stderr)
			}
			got := tm.must("pkg", "query", "%n %v %R")
			if reinstalled := strings.Contains(got, "pkg 2.1.4 unknown-repository\n"); reinstalled != tt.reinstal {
				t.Errorf("pkg %s: pkg-static bootstrap %q: reinstalled %v, want %v:\n%s", tt.pkg, tt.args, reinstalled, tt.reinstal, got)
			}
		})
	}
}

// TestPkg7ByRelease checks /usr/sbin/pkg, pkg(7), as releases ship it:
// before 12.3 `bootstrap -f -y` is no forced bootstrap; without an answer
// and without a terminal it refuses.
func TestPkg7ByRelease(t *testing.T) {
	t.Run("12.2", func(t *testing.T) { testPkg7Before123(t) })
	t.Run("14.2", func(t *testing.T) { testPkg7Getopt(t) })
}

func testPkg7Before123(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "12.2-RELEASE"})
	tm.env["ASSUME_ALWAYS_YES"] = "yes"
	if r := tm.run("pkg", "bootstrap", "-f", "-y"); r.code != 0 || r.out != "pkg already bootstrapped at /usr/local/sbin/pkg\n" {
		t.Errorf("12.2 pkg bootstrap -f -y: %v", r)
	}
	if r := tm.run("pkg", "bootstrap", "-f"); r.code != 0 || !strings.Contains(r.out, "Installing pkg-") {
		t.Errorf("12.2 pkg bootstrap -f: %v", r)
	}
}

func testPkg7Getopt(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	if r := tm.run("pkg", "bootstrap", "-f", "extra"); r.code != 1 || r.err != "Too many arguments\nUsage: pkg [-4|-6] bootstrap [-f] [-y]\n" {
		t.Errorf("14.2 pkg bootstrap -f extra: %v", r)
	}
	if r := tm.run("pkg", "bootstrap", "-f", "-r", "FreeBSD", "-y"); r.code != 0 || !strings.Contains(r.out, "Installing pkg-") {
		t.Errorf("14.2 pkg bootstrap -f -r FreeBSD -y: %v", r)
	}
	delete(tm.env, TTYEnv)
	if r := tm.run("pkg-static", "bootstrap", "-f"); r.code != 1 || !strings.Contains(r.err, "Please set ASSUME_ALWAYS_YES=yes environment variable to be able to bootstrap in non-interactive (stdin not being a tty)") {
		t.Errorf("bootstrap -f without an answer or a terminal: %v", r)
	}
	if r := tm.run("pkg-static", "bootstrap", "-f", "-y"); r.code != 0 || !strings.Contains(r.out, "Installing pkg-") {
		t.Errorf("14.2 bootstrap -f -y: %v", r)
	}
}

// TestPkgUpgradeLeavesMissingPackage: a package the new repository lacks
// keeps its old build through pkg upgrade -f, breaks once install #3
// removed the old libraries, and runs again with misc/compat13x.
func TestPkgUpgradeLeavesMissingPackage(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", Packages: []PackageSpec{
		{Name: "curl", Version: "8.11.1", Libs: []string{"libssl"}},
		{Name: "oldtool", Version: "2.1", Libs: []string{"libssl", "libcrypto"}, NotInRepo: true},
	}})
	tm.worldUpgraded("14.2-RELEASE")
	tm.env["ASSUME_ALWAYS_YES"] = "yes"
	tm.env["IGNORE_OSVERSION"] = "yes"
	tm.mustOK("", "pkg-static", "bootstrap", "-f")
	out := tm.mustOK("", "pkg-static", "upgrade", "-f", "-y")
	if strings.Contains(out, "oldtool") {
		t.Errorf("pkg upgrade -f names the package the repository lacks:\n%s", out)
	}
	if got := tm.must("pkg", "query", "%n %q"); !strings.Contains(got, "oldtool FreeBSD:13:amd64\n") || !strings.Contains(got, "curl FreeBSD:14:amd64\n") {
		t.Errorf("after pkg upgrade -f:\n%s", got)
	}
	tm.mustOK("", tm.freebsdUpdate("install")...)
	if broken := strings.Join(tm.brokenPackages(), "\n"); !strings.Contains(broken, "oldtool-2.1 (/usr/local/bin/oldtool needs libssl.so.111)") {
		t.Errorf("broken packages after install #3: %q", broken)
	}
	out = tm.mustOK("", "pkg-static", "install", "-y", "misc/compat13x")
	if !strings.Contains(out, "New packages to be INSTALLED:\n\tcompat13x: ") {
		t.Errorf("pkg install misc/compat13x:\n%s", out)
	}
	if broken := tm.brokenPackages(); len(broken) > 0 {
		t.Errorf("broken with compat13x installed: %v", broken)
	}
	if r := tm.run("pkg-static", "install", "-y", "misc/compat14x"); r.code != 1 || !strings.Contains(r.err, "No packages available to install matching 'misc/compat14x'") {
		t.Errorf("compat14x on 14: %v", r)
	}
}

// TestPortsHost: packages built from ports record no repository; with
// the repository disabled pkg upgrade has nothing to upgrade from, and
// portmaster -aPf rebuilds every port for the new ABI, from a package
// when there is one, from the ports tree otherwise.
func TestPortsHost(t *testing.T) {
	t.Run("ports tree", func(t *testing.T) { testPortsTree(t) })
	t.Run("port missing", func(t *testing.T) { testPortMissing(t) })
}

func testPortsTree(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", Ports: true, Portmaster: true, NoRepository: true, Packages: []PackageSpec{
		{Name: "curl", Version: "8.11.1", Libs: []string{"libssl"}},
		{Name: "localtool", Version: "0.3", Libs: []string{"libcrypto"}, NotInRepo: true},
	}})
	if got := tm.must("pkg", "query", "%n %R"); got != "pkg unknown-repository\nportmaster unknown-repository\ncurl unknown-repository\nlocaltool unknown-repository\n" {
		t.Errorf("pkg query %%n %%R on a ports host:\n%s", got)
	}
	if r := tm.run("pkg", "upgrade", "-f", "-y"); r.code != 3 || r.out != "No repositories are enabled.\n" {
		t.Errorf("pkg upgrade without a repository: %v", r)
	}
	tm.worldUpgraded("14.2-RELEASE")
	out := tm.mustOK("", "portmaster", "-aPf", "--no-confirm")
	if !strings.Contains(out, "===>>> Installing package from: /usr/ports/packages/portmaster-download/curl-8.11.1.pkg") ||
		!strings.Contains(out, "===>>> Package and/or archive not found at:\n\thttp://pkg.freebsd.org/FreeBSD:14:amd64/latest/All/") ||
		!strings.Contains(out, "===>>> Starting build for misc/localtool") {
		t.Errorf("portmaster -aPf:\n%s", out)
	}
	if got := tm.must("pkg", "query", "%n %q %R"); strings.Contains(got, "FreeBSD:13") || strings.Count(got, "unknown-repository") != 4 {
		t.Errorf("after portmaster -aPf:\n%s", got)
	}
	tm.mustOK("", tm.freebsdUpdate("install")...)
	if broken := tm.brokenPackages(); len(broken) > 0 {
		t.Errorf("broken after portmaster and install #3: %v", broken)
	}
}

// testPortMissing: a port missing from the tree cannot be built.
func testPortMissing(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", Portmaster: true, Packages: []PackageSpec{{Name: "gone", NotInRepo: true}}})
	tm.worldUpgraded("14.2-RELEASE")
	if r := tm.run("portmaster", "-aPf"); r.code != 1 || !strings.Contains(r.out, "===>>> /usr/ports/misc/gone does not exist\n===>>> Aborting update\n") {
		t.Errorf("portmaster -aPf without the port: %v", r)
	}
}
