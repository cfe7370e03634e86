// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestClassicMistakes runs the seed procedure with the mistakes admins
// make; each ends in a machine that does not boot, or is broken, and the
// boot says why.
func TestClassicMistakes(t *testing.T) {
	cases := []struct {
		name  string
		spec  Spec
		steps upgradeSteps
		// before runs ahead of the upgrade (nil: nothing).
		before func(tm *testMachine)
		// after runs between the upgrade and the check (nil: none).
		after func(tm *testMachine) *BootReport
		// reason must occur in the boot report's reason.
		reason string
	}{
		{
			name:  "boot code on the first disk only, that disk removed",
			spec:  Spec{Preset: "bios", Release: "13.2-RELEASE", Disks: 2},
			steps: upgradeSteps{target: "14.2-RELEASE", bootDisks: []string{"ada0"}, bootIndex: 1},
			after: func(tm *testMachine) *BootReport {
				tm.mustOK("", "shutdown", "-r", "now")
				if err := tm.RemoveDisk("ada0"); err != nil {
					tm.t.Fatal(err)
				}
				return tm.boot(BootOptions{})
			},
			reason: "gptzfsboot 13.2-RELEASE on ada1: ZFS: unsupported feature: com.delphix:head_errlog",
		},
		{
			name:   "zpool upgrade before boot code",
			spec:   Spec{Preset: "bios", Release: "13.2-RELEASE", Disks: 2},
			steps:  upgradeSteps{target: "14.2-RELEASE"},
			reason: "ZFS: unsupported feature: com.delphix:head_errlog",
		},
		{
			name:   "zpool upgrade before boot code, 8.2 legacy pool",
			spec:   Spec{Preset: "bios", Release: "8.2-RELEASE", Disks: 2, PoolVersion: 15},
			before: func(tm *testMachine) { tm.mustOK("", "sed", "-i", "", "-e", "s/=_/=%@_/", "/usr/sbin/freebsd-update") },
			steps:  upgradeSteps{target: "9.0-RELEASE"},
			reason: "ZFS: unsupported ZFS version 28 (should be <= 15)",
		},
		{
			name:   "gptzfsboot hint followed on a UEFI-only host",
			spec:   Spec{Preset: "uefi", Release: "13.1-RELEASE", Disks: 2, ESPs: "all"},
			steps:  upgradeSteps{target: "14.2-RELEASE", bootDisks: []string{"ada0", "ada1"}, bootIndex: 1},
			reason: "UEFI: no boot entry could be started",
		},
		{
			name:   "old bootx64.efi on a host whose firmware uses it",
			spec:   Spec{Preset: "uefi", Release: "13.0-RELEASE", Disks: 2, ESPs: "all"},
			steps:  upgradeSteps{target: "14.2-RELEASE", esps: []string{"ada0", "ada1"}, skipFallback: true},
			reason: "loader.efi 13.0-RELEASE on ada1p1: ZFS: unsupported feature: com.delphix:head_errlog; internal error: failed to initialize ZFS library",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newMachine(t, c.spec)
			if c.before != nil {
				c.before(tm)
			}
			rep := tm.upgrade(c.steps)
			if c.after != nil {
				rep = c.after(tm)
			}
			t.Logf("boot console:\n%s", strings.Join(rep.Console, "\n"))
			if rep.Booted {
				t.Fatalf("the machine booted; want a failure with %q\n%s", c.reason, strings.Join(rep.Console, "\n"))
			}
			if !strings.Contains(rep.Reason, c.reason) {
				t.Errorf("reason %q, want it to contain %q\n%s", rep.Reason, c.reason, strings.Join(rep.Console, "\n"))
			}
			if r := tm.run("uname", "-r"); r.code == 0 {
				t.Errorf("a command ran on a machine that did not boot: %v", r)
			}
		})
	}
}

// TestPackagesNotUpgradedBeforeInstall3 leaves packages at the old ABI:
// after install #3 removes the old libraries they are broken, pkg(8)
// itself cannot run, and pkg-static still can.
func TestPackagesNotUpgradedBeforeInstall3(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", Disks: 2})
	rep := tm.upgrade(upgradeSteps{target: "14.2-RELEASE", bootDisks: []string{"ada0", "ada1"}, bootIndex: 1, skipPackages: true})
	if !rep.Booted {
		t.Fatalf("did not boot: %s", rep.Reason)
	}
	if len(rep.BrokenPackages) == 0 || !strings.Contains(strings.Join(rep.BrokenPackages, "\n"), "curl-8.11.1 (/usr/local/bin/curl needs libssl.so.111)") {
		t.Errorf("broken packages %q, want curl needing libssl.so.111", rep.BrokenPackages)
	}
	r := tm.run("pkg", "-N")
	if r.code != 1 || !strings.Contains(r.err, `ld-elf.so.1: Shared object "libssl.so.111" not found, required by "pkg"`) {
		t.Errorf("pkg -N with the old pkg: %v", r)
	}
	tm.env["ASSUME_ALWAYS_YES"] = "yes"
	tm.mustOK("", "pkg-static", "bootstrap", "-f")
	out := tm.mustOK("", "pkg-static", "upgrade", "-y")
	if !strings.Contains(out, "(ABI changed: 'freebsd:13:x86:64' -> 'freebsd:14:x86:64')") {
		t.Errorf("pkg-static upgrade does not reinstall for the new ABI:\n%s", out)
	}
	if broken := tm.brokenPackages(); len(broken) > 0 {
		t.Errorf("still broken after the packages were rebuilt: %v", broken)
	}
}

// TestRemovedDiskBootsWithBootCodeEverywhere is the control of the first
// mistake: with boot code on every member the survivor boots.
func TestRemovedDiskBootsWithBootCodeEverywhere(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", Disks: 2})
	rep := tm.upgrade(upgradeSteps{target: "14.2-RELEASE", bootDisks: []string{"ada0", "ada1"}, bootIndex: 1})
	if !rep.Booted {
		t.Fatalf("did not boot: %s", rep.Reason)
	}
	tm.mustOK("", "shutdown", "-r", "now")
	if err := tm.RemoveDisk("ada0"); err != nil {
		t.Fatal(err)
	}
	rep = tm.mustBoot(BootOptions{})
	if rep.Disk != "ada1" {
		t.Errorf("booted from %q, want ada1", rep.Disk)
	}
	if got := tm.must("zpool", "status"); !strings.Contains(got, " state: DEGRADED\n") {
		t.Errorf("zpool status with a disk missing:\n%s", got)
	}
}
