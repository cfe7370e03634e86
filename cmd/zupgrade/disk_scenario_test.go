// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// diskSpec is a BIOS+UEFI 2-way mirror with both ESPs formatted, upgraded
// across a minor release.
var diskSpec = simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2, ESPs: "all"}

const diskTarget = "14.2-RELEASE"

// assertGoneDiskMessage checks that a run stopped by a disk that went away
// names the disk, says what to do, and shows no raw error of a command
// run on the missing device. code is apply's exit status, or the boot
// hook's (whose daemon(8) does not pass the resume's on).
func (h *testHost) assertGoneDiskMessage(code int, log, disk string) {
	h.t.Helper()
	j := h.journal()
	if (code != ExitFailed && bootCount(log) == 0) || j.Status != steps.StatusFailed {
		h.t.Fatalf("exit %d, journal %s, want a failed run:\n%s", code, j.Status, log)
	}
	for _, want := range []string{"disk " + disk, "zpool replace", "zpool detach zroot", "zupgrade apply"} {
		if !strings.Contains(j.Message, want) {
			h.t.Errorf("the journal's message lacks %q: %s", want, j.Message)
		}
	}
	for _, raw := range []string{"No such file or directory", "No such geom"} {
		if strings.Contains(j.Message, raw) {
			h.t.Errorf("the journal's message is a raw command error: %s", j.Message)
		}
	}
	if !strings.Contains(log, "disk "+disk) {
		h.t.Errorf("the output does not name the disk %s:\n%s", disk, log)
	}
}

// detachGone detaches the member of disk that zpool status shows as
// missing, as the admin would.
func (h *testHost) detachGone(disk string) {
	h.t.Helper()
	for _, l := range strings.Split(h.sh("zpool", "status", "zroot"), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.Contains(l, "was /dev/"+disk) {
			h.sh("zpool", "detach", "zroot", f[0])
			return
		}
	}
	h.t.Fatalf("zpool status shows no missing member on %s:\n%s", disk, h.sh("zpool", "status"))
}

// assertBootsFromPresentDisks boots from every disk still attached and
// checks that each brings up the target from that disk.
func (h *testHost) assertBootsFromPresentDisks(target string) {
	h.t.Helper()
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range model.Disks {
		if d.Missing {
			continue
		}
		rep := h.boot(simhost.BootOptions{FirstDisk: d.Name, NoHooks: true})
		if rep.Disk != d.Name || !strings.HasPrefix(rep.Kernel, strings.TrimSuffix(target, "-RELEASE")) {
			h.t.Errorf("asked to boot %s from %s: booted %s from %q", target, d.Name, rep.Kernel, rep.Disk)
		}
	}
}

// TestDiskGoneAfterPlan: a disk of the mirror dies after the plan, before
// the boot code step. The run stops naming it; the admin detaches it and
// the run goes on, or replaces it and the new disk gets the boot code.
func TestDiskGoneAfterPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	for _, fix := range []string{"detach", "replace"} {
		t.Run(fix, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, diskSpec)
			if err := h.m.AddFault(simhost.Fault{Command: "freebsd-update", Args: "install", Action: simhost.FaultRemoveDisk, Disk: "ada1"}); err != nil {
				t.Fatal(err)
			}
			code, log := h.runUpgrade(nil, "--to", diskTarget)
			h.assertGoneDiskMessage(code, log, "ada1")
			if r := h.journal().Record("bootcode"); r.State != steps.StepStarted {
				t.Errorf("bootcode step %s, want started", r.State)
			}
			if fix == "detach" {
				h.detachGone("ada1")
			} else if err := h.m.ReplaceDisk(simhost.Replacement{Disk: "ada1", Resilvering: true, Bootcode: true}); err != nil {
				t.Fatal(err)
			}
			code, log = h.runUpgrade(nil)
			h.assertDone(code, log)
			h.assertBootsFromPresentDisks(diskTarget)
			if fix == "replace" && !strings.Contains(log, "gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada1") {
				t.Errorf("no boot code written to the new ada1:\n%s", log)
			}
		})
	}
}

// TestDiskGoneWhileBootcodeWritten: the disk vanishes while its boot code
// is written; the run stops naming it, not with gpart's error.
func TestDiskGoneWhileBootcodeWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, diskSpec)
	if err := h.m.AddFault(simhost.Fault{Command: "gpart", Args: "bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada1", Action: simhost.FaultRemoveDisk, Disk: "ada1"}); err != nil {
		t.Fatal(err)
	}
	code, log := h.runUpgrade(nil, "--to", diskTarget)
	h.assertGoneDiskMessage(code, log, "ada1")
	h.detachGone("ada1")
	code, log = h.runUpgrade(nil)
	h.assertDone(code, log)
	h.assertBootsFromPresentDisks(diskTarget)
}

// TestDiskGoneBetweenReboots: the disk dies while the host reboots into the
// new kernel. The resume stops before the pool upgrade, naming the disk,
// never with dd's error about the missing device; after the admin detaches
// it, apply finishes.
func TestDiskGoneBetweenReboots(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, diskSpec)
	// ada1 dies as the host goes down into the new kernel.
	if err := h.m.AddFault(simhost.Fault{Command: "shutdown", Action: simhost.FaultRemoveDisk, Disk: "ada1"}); err != nil {
		t.Fatal(err)
	}
	code, log := h.runUpgrade(nil, "--to", diskTarget)
	if bootCount(log) != 1 {
		t.Errorf("%d boots, want the one into the new kernel:\n%s", bootCount(log), log)
	}
	h.assertGoneDiskMessage(code, log, "ada1")
	if r := h.journal().Record("zpool-upgrade"); r.State == steps.StepDone || !strings.Contains(h.journal().Message, "zpool-upgrade") {
		t.Errorf("zpool-upgrade step %s (%s), want it stopped: the pool upgrade waits for boot code on every disk", r.State, h.journal().Message)
	}
	if strings.Contains(log, "dd: /dev/") {
		t.Errorf("dd's error on the missing device reached the admin:\n%s", log)
	}
	h.detachGone("ada1")
	code, log = h.runUpgrade(nil)
	h.assertDone(code, log)
	h.assertBootsFromPresentDisks(diskTarget)
}

// TestPlanBlocksWhileResilvering: a plan on a pool whose member is being
// resilvered or replaced blocks, names the member and says to wait for the
// resilver, not to replace a disk that is being replaced; once the resilver
// is done the plan writes the boot code to the new disk.
func TestPlanBlocksWhileResilvering(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec simhost.Spec
	}{
		{"resilvering", simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", ESPs: "all", Resilvering: []string{"ada1"}}},
		{"replacing", simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", ESPs: "all", Naming: "gpt-label", Replaced: []simhost.Replacement{{Disk: "ada1", Resilvering: true}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, tt.spec)
			code, out := h.zupgrade(nil, "plan", "--to", diskTarget)
			if code != ExitBlocked {
				t.Fatalf("plan: exit %d, want %d\n%s", code, ExitBlocked, out)
			}
			for _, want := range []string{"[block] no scrub or resilver running", "ada1p4", "wait until the resilver finishes", "then plan again"} {
				if !strings.Contains(out, want) {
					t.Errorf("plan lacks %q:\n%s", want, out)
				}
			}
			for _, wrong := range []string{"zpool scrub -s", "add the missing boot partition", "replace or online the missing device"} {
				if strings.Contains(out, wrong) {
					t.Errorf("plan says %q to a pool that is resilvering:\n%s", wrong, out)
				}
			}
			if err := h.m.FinishResilver(); err != nil {
				t.Fatal(err)
			}
			code, out = h.zupgrade(nil, "plan", "--to", diskTarget, "--format-esps")
			if code != 0 || !strings.Contains(out, "$ gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada1") {
				t.Errorf("plan after the resilver: exit %d\n%s", code, out)
			}
		})
	}
}

// TestDisksLaidOutByHand: disks an admin partitioned by hand, the boot
// partitions at other indexes and after the pool member, GPT labels crossed
// (gpt/zfs0 on ada1), members on GELI: the plan writes each disk's own
// index and the host boots the target from every disk.
func TestDisksLaidOutByHand(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	layout := func(n string) []simhost.PartitionSpec {
		return []simhost.PartitionSpec{
			{Type: "freebsd-zfs", Index: 4, Label: "zfs" + n, Size: "30G"},
			{Type: "freebsd-swap", Index: 2, Size: "1G"},
			{Type: "freebsd-boot", Index: 7, Label: "boot" + n},
			{Type: "efi", Index: 9, Label: "efi" + n},
		}
	}
	spec := simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", ESPs: "all", Naming: "gpt-label", Geli: true,
		Layouts: map[string][]simhost.PartitionSpec{"ada0": layout("1"), "ada1": layout("0")}}
	h := newHost(t, spec)
	code, out := h.zupgrade(nil, "plan", "--to", diskTarget)
	for _, want := range []string{"$ gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 7 ada0", "$ gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 7 ada1", "mount_msdosfs /dev/ada1p9 "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("plan (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
	code, log := h.runUpgrade(nil, "--to", diskTarget)
	h.assertDone(code, log)
	h.assertBootsFromPresentDisks(diskTarget)
}

// TestDiskReplacedBeforeThePlan: a disk that died was replaced before the
// upgrade and has resilvered, but the admin wrote no boot code on it and
// left its ESP blank. The upgrade writes the boot code there (and, with
// --format-esps, the loader), so the host boots from the new disk too.
func TestDiskReplacedBeforeThePlan(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", ESPs: "all", Naming: "gpt-label", Replaced: []simhost.Replacement{{Disk: "ada1"}}})
	if rep, err := h.m.Boot(simhost.BootOptions{FirstDisk: "ada1", NoHooks: true}); err != nil || rep.Disk == "ada1" {
		t.Fatalf("the new disk boots before the upgrade (%v): %+v", err, rep)
	}
	code, out := h.zupgrade(nil, "plan", "--to", diskTarget)
	if code != 0 || !strings.Contains(out, "ada1p1 on ada1 was never formatted") {
		t.Errorf("plan (exit %d) does not report the blank ESP of the new disk:\n%s", code, out)
	}
	code, log := h.runUpgrade(nil, "--to", diskTarget, "--format-esps")
	h.assertDone(code, log)
	h.assertBootsFromPresentDisks(diskTarget)
}

// TestPowerCutDuringResume: the power fails while the boot hook's resume
// installs the world. The cut ends the resume with the machine (it writes
// no "failed" journal a real host could not have); the next boots finish
// the run.
func TestPowerCutDuringResume(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, diskSpec)
	if code, out := h.zupgrade(nil, "apply", "--to", diskTarget, "--no-reboot"); code != ExitCheckpoint {
		t.Fatalf("apply --no-reboot: exit %d\n%s", code, out)
	}
	if err := h.m.AddFault(simhost.Fault{Command: "freebsd-update", Args: "install", Action: simhost.FaultPowerCut}); err != nil {
		t.Fatal(err)
	}
	rep := h.boot(simhost.BootOptions{})
	h.wait() // the run the hook detached
	j := h.journal()
	if !h.down() || j.Status == steps.StatusFailed || j.Record("install-world").State != steps.StepStarted {
		t.Fatalf("after the power cut during the resume: down %v, journal %s (%s), install-world %s; hooks %+v",
			h.down(), j.Status, j.Message, j.Record("install-world").State, rep.Hooks)
	}
	// The boot after the cut resumes and stops at the final checkpoint
	// (--no-reboot); the one after it ends the run.
	for i := 0; i < 2 && h.journal().Status != steps.StatusDone; i++ {
		h.boot(simhost.BootOptions{})
		h.wait()
	}
	h.assertDone(0, "")
	h.assertBootsFromPresentDisks(diskTarget)
}
