// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// stageUpgrade runs steps 2-7 of issue 12's staged upgrade by hand on a
// BIOS+UEFI mirror: a boot environment named for the target, mounted;
// freebsd-update's upgrade and every install into it; its packages with
// pkg -c and devfs mounted there; boot code and loaders on every member
// from MOUNT/boot; unmounted; activated for the next boot only. The
// running system is never touched. Without bootCode step 6 is left out:
// the disks keep the old boot code and loaders.
func (tm *testMachine) stageUpgrade(from, target string, bootCode bool) {
	t := tm.t
	t.Helper()
	tm.env["PAGER"] = "cat"
	be := target
	mnt := tm.mountNewBE(be)
	fu := []string{"freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", mnt + "/var/db/freebsd-update", "--currently-running", from}
	tm.mustOK("", append(fu, "-r", target, "upgrade")...)
	installs := 0
	for tm.run(append(fu, "updatesready")...).code == 0 {
		if installs++; installs > 3 {
			t.Fatalf("freebsd-update install still pending after three runs")
		}
		tm.mustOK("", append(fu, "install")...)
	}
	tm.mustOK("", "mount", "-t", "devfs", "devfs", mnt+"/dev")
	tm.env["ASSUME_ALWAYS_YES"] = "yes"
	tm.env["IGNORE_OSVERSION"] = "yes"
	tm.mustOK("", "pkg-static", "-c", mnt, "upgrade", "-f", "-y")
	delete(tm.env, "ASSUME_ALWAYS_YES")
	delete(tm.env, "IGNORE_OSVERSION")
	tm.mustOK("", "umount", mnt+"/dev")
	for _, d := range []string{"ada0", "ada1"} {
		if !bootCode {
			break
		}
		tm.mustOK("", "gpart", "bootcode", "-b", mnt+"/boot/pmbr", "-p", mnt+"/boot/gptzfsboot", "-i", "2", d)
	}
	for _, esp := range []struct{ dev, point string }{{"", "/boot/efi"}, {"/dev/ada1p1", "/mnt"}} {
		if !bootCode {
			break
		}
		if esp.dev != "" {
			tm.mustOK("", "mount_msdosfs", esp.dev, esp.point)
		}
		for _, f := range []string{"efi/freebsd/loader.efi", "efi/boot/bootx64.efi"} {
			tm.mustOK("", "mkdir", "-p", esp.point+"/efi/freebsd", esp.point+"/efi/boot")
			tm.mustOK("", "cp", mnt+"/boot/loader.efi", esp.point+"/"+f+".new")
			tm.mustOK("", "mv", esp.point+"/"+f+".new", esp.point+"/"+f)
		}
		tm.mustOK("", "sync")
		if esp.dev != "" {
			tm.mustOK("", "umount", esp.point)
		}
	}
	tm.mustOK("", "bectl", "umount", be)
	tm.mustOK("", "bectl", "activate", "-t", be)
	// Nothing of the new system runs yet.
	if got := tm.must("freebsd-version", "-kru"); got != strings.Repeat(from+"\n", 3) {
		t.Fatalf("the running system changed while staging: freebsd-version -kru = %q", got)
	}
}

// TestStagedUpgradeScenario is issue 12's staged upgrade driven by hand,
// 14.3 -> 15.0 without EN-25:18 (which breaks the in-place upgrade), on
// either firmware: one reboot into the new boot environment, on trial;
// kept by a permanent activation when healthy; gone at the next boot when
// the health check does not activate it, or when its kernel panics. The
// new boot code and loaders boot the old boot environment's older kernel.
func TestStagedUpgradeScenario(t *testing.T) {
	const from, target = "14.3-RELEASE-p3", "15.0-RELEASE"
	spec := func(fw string) Spec {
		return Spec{Preset: "bios+uefi", Release: from, Disks: 2, Firmware: fw, ESPs: "all"}
	}
	bootedInto := func(t *testing.T, tm *testMachine, rep *BootReport, be, release string) {
		t.Helper()
		if !rep.Booted || rep.BE != "zroot/ROOT/"+be {
			t.Fatalf("booted %v into %q, want %s: %s\n%s", rep.Booted, rep.BE, be, rep.Reason, strings.Join(rep.Console, "\n"))
		}
		if got := tm.must("freebsd-version", "-kru"); got != strings.Repeat(release+"\n", 3) {
			t.Errorf("in %s freebsd-version -kru = %q", be, got)
		}
	}
	for _, fw := range []string{"BIOS", "UEFI"} {
		t.Run(fw+"/healthy", func(t *testing.T) {
			tm := newMachine(t, spec(fw))
			tm.stageUpgrade(from, target, true)
			rep := tm.reboot(BootOptions{})
			bootedInto(t, tm, rep, target, target)
			if !strings.Contains(strings.Join(rep.Console, "\n"), "zfs bootonce: zfs:zroot/ROOT/"+target+":") {
				t.Errorf("the trial boot did not come from the bootonce:\n%s", strings.Join(rep.Console, "\n"))
			}
			if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, target+"\tN\t/\t") || !strings.Contains(list, "default\tR\t-\t") {
				t.Errorf("bectl list -H on trial:\n%s", list)
			}
			if len(rep.BrokenPackages) > 0 {
				t.Errorf("broken packages in the new boot environment: %v", rep.BrokenPackages)
			}
			// The health checks passed: keep it.
			tm.mustOK("", "bectl", "activate", target)
			bootedInto(t, tm, tm.reboot(BootOptions{}), target, target)
			if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, target+"\tNR\t/\t") {
				t.Errorf("bectl list -H after the permanent activation:\n%s", list)
			}
		})
		t.Run(fw+"/unhealthy", func(t *testing.T) {
			tm := newMachine(t, spec(fw))
			tm.stageUpgrade(from, target, true)
			bootedInto(t, tm, tm.reboot(BootOptions{}), target, target)
			// What the trial writes to the pool's root dataset (mounted
			// at /zroot, outside the boot environments) the old boot
			// environment sees; what it writes to /var/db it does not.
			tm.mustOK("", "cp", "/etc/rc.conf", "/zroot/trial-notes")
			tm.mustOK("", "cp", "/etc/rc.conf", "/var/db/trial-notes")
			// The health checks failed: no activation; the next boot
			// (the admin's, a watchdog's) is the old one, through the
			// new boot code and loaders.
			rep := tm.reboot(BootOptions{})
			bootedInto(t, tm, rep, "default", from)
			tm.must("cat", "/zroot/trial-notes")
			if r := tm.run("cat", "/var/db/trial-notes"); r.code == 0 {
				t.Errorf("a file the trial wrote to its own /var/db shows in the old boot environment")
			}
			if !strings.Contains(rep.Loader, "15.0-RELEASE") {
				t.Errorf("the old boot environment was not booted by the new loader: %s", rep.Loader)
			}
		})
		t.Run(fw+"/panic", func(t *testing.T) {
			tm := newMachine(t, spec(fw))
			tm.stageUpgrade(from, target, true)
			rep := tm.reboot(BootOptions{PanicIn: target})
			bootedInto(t, tm, rep, "default", from)
			console := strings.Join(rep.Console, "\n")
			if !strings.Contains(console, "panic: ") || !strings.Contains(console, "Automatic reboot in 15 seconds") {
				t.Errorf("console of the failed trial:\n%s", console)
			}
			if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, target+"\t-\t-\t") {
				t.Errorf("bectl list -H after the failed trial:\n%s", list)
			}
		})
	}
}

// TestStagedPanicAtEveryBoot: a kernel that panics at every boot (the
// bootfs's) keeps the machine rebooting; the simulation reports it halted.
func TestStagedPanicAtEveryBoot(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	rep := tm.reboot(BootOptions{PanicIn: "default"})
	if rep.Booted || !strings.Contains(rep.Reason, "panics at every boot") {
		t.Errorf("boot with a kernel that always panics: %+v", rep)
	}
}

// TestStagedOldLoaderFallsBack: with step 6 left out, the ESP's 13.5
// loader.efi cannot run 15.0's lua scripts and stops at its prompt; the
// bootonce it consumed is gone, so the reset boots the old boot
// environment, which that loader still runs.
func TestStagedOldLoaderFallsBack(t *testing.T) {
	const from = "13.5-RELEASE-p3"
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: from, Disks: 2, Firmware: "UEFI", ESPs: "all"})
	tm.stageUpgrade(from, "15.0-RELEASE", false)
	rep := tm.reboot(BootOptions{})
	if rep.Booted || !strings.Contains(rep.Reason, "LUA ERROR") || rep.BE != "zroot/ROOT/15.0-RELEASE" {
		t.Fatalf("the trial with the old loader: booted %v into %q: %s", rep.Booted, rep.BE, rep.Reason)
	}
	rep = tm.boot(BootOptions{})
	if !rep.Booted || rep.BE != "zroot/ROOT/default" {
		t.Fatalf("after the reset: booted %v into %q: %s", rep.Booted, rep.BE, rep.Reason)
	}
	if got := tm.must("uname", "-r"); got != from+"\n" {
		t.Errorf("uname -r after the fallback = %q", got)
	}
}
