// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestPkgOSVersionPrompt checks that packages built for a newer userland make pkg
// ask, even with -y, unless IGNORE_OSVERSION=yes.
func TestPkgOSVersionPrompt(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", RepoOSVersion: map[string]int{"14": 1403000}})
	r := tm.runInput("n\n", "pkg-static", "bootstrap", "-f", "-y")
	if r.code != 1 || !strings.Contains(r.out, "Newer FreeBSD version for package pkg:\nTo ignore this error set IGNORE_OSVERSION=yes\n- package: 1403000\n- running userland: 1402000\nIgnore the mismatch and continue? [y/N]: ") {
		t.Errorf("bootstrap answering n: %v", r)
	}
	if r := tm.runInput("y\n", "pkg-static", "bootstrap", "-f", "-y"); r.code != 0 {
		t.Errorf("bootstrap answering y: %v", r)
	}
	tm.env["IGNORE_OSVERSION"] = "yes"
	if r := tm.run("pkg-static", "bootstrap", "-f", "-y"); r.code != 0 || strings.Contains(r.out, "Newer FreeBSD version") {
		t.Errorf("bootstrap with IGNORE_OSVERSION=yes: %v", r)
	}
}

// TestPkgAfterMajorUpgrade checks that after the world install pkg warns and asks
// before reinstalling packages for the new ABI.
func TestPkgAfterMajorUpgrade(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE"})
	tm.env["PAGER"] = "cat"
	tm.mustOK("", "freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade")
	tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
	tm.reboot(BootOptions{})
	tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
	if got := tm.must("pkg", "config", "ABI"); got != "FreeBSD:14:amd64\n" {
		t.Errorf("pkg config ABI after the world install: %q", got)
	}
	r := tm.run("pkg", "upgrade")
	if r.code != 1 || !strings.Contains(r.err, "pkg: Warning: Major OS version upgrade detected.  Running \"pkg bootstrap -f\" recommended\n") || !strings.Contains(r.out, "Proceed with this action? [y/N]: ") {
		t.Errorf("pkg upgrade without an answer: %v", r)
	}
	if got := tm.must("pkg", "query", "%n %q"); !strings.Contains(got, "curl FreeBSD:13:amd64") {
		t.Errorf("a refused upgrade changed packages: %s", got)
	}
	if r := tm.run("pkg", "upgrade", "-n"); r.code != 1 || !strings.Contains(r.out, "Number of packages to be reinstalled: 3") {
		t.Errorf("pkg upgrade -n: %v", r)
	}
	r = tm.runInput("y\n", "pkg", "upgrade")
	if r.code != 0 {
		t.Fatalf("pkg upgrade answering y: %v", r)
	}
	if got := tm.must("pkg", "query", "%n %q"); strings.Contains(got, "FreeBSD:13") {
		t.Errorf("packages after the upgrade:\n%s", got)
	}
	if got := tm.must("pkg", "upgrade"); !strings.Contains(got, "Your packages are up to date.") {
		t.Errorf("second pkg upgrade:\n%s", got)
	}
}

// TestPkgNotInstalled checks pkg(7) without pkg(8).
func TestPkgNotInstalled(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", NoPkg: true})
	if r := tm.run("pkg", "-N"); r.code != 1 || r.err != "pkg: pkg is not installed\n" {
		t.Errorf("pkg -N: %v", r)
	}
	if r := tm.run("pkg", "info"); r.code != 1 || !strings.Contains(r.out, "Do you want to fetch and install it now? [y/N]: ") {
		t.Errorf("pkg info without pkg: %v", r)
	}
	tm.mustOK("", "pkg", "bootstrap", "-y")
	if r := tm.run("pkg", "-N"); r.code != 0 || r.err != "pkg: 1 packages installed\n" {
		t.Errorf("pkg -N after bootstrap: %v", r)
	}
}

// TestPortmaster rebuilds ports with portmaster -aPf.
func TestPortmaster(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", Portmaster: true})
	rep := tm.upgrade(upgradeSteps{target: "14.2-RELEASE", bootDisks: []string{"ada0", "ada1"}, bootIndex: 1, skipPackages: true})
	if len(rep.BrokenPackages) == 0 {
		t.Fatalf("no broken packages before portmaster")
	}
	tm.env["ASSUME_ALWAYS_YES"] = "yes"
	tm.mustOK("", "pkg-static", "bootstrap", "-f")
	tm.mustOK("", "portmaster", "-aPf")
	if broken := tm.brokenPackages(); len(broken) > 0 {
		t.Errorf("broken after portmaster -aPf: %v", broken)
	}
}
