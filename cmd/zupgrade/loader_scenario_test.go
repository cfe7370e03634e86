// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Every loader that can start the host, and the firmware: whole upgrades
// of hosts whose firmware may start something else than the pool disks'
// efi/freebsd/loader.efi.

// TestLegacyBoot1ESPUpgrade: a host installed with 11.2 (800K ESPs with
// boot1.efi on every disk) reads the pool through boot1.efi; the pool
// upgrade must wait until boot1.efi is replaced from /boot/boot1.efi.
func TestLegacyBoot1ESPUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "uefi", Release: "13.4-RELEASE", Installed: "11.2-RELEASE", Disks: 2})
	code, out := h.zupgrade(nil, "plan", "--to", "14.2-RELEASE")
	if code != 0 || !strings.Contains(out, "$ cp /boot/boot1.efi ") || !strings.Contains(out, "boot1.efi") {
		t.Fatalf("plan does not update boot1.efi on the legacy ESPs (exit %d):\n%s", code, out)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	h.assertDone(code, log)
	h.assertBootsEverywhere("14.2-RELEASE")
	rep := h.boot(simhost.BootOptions{NoHooks: true})
	if !strings.Contains(rep.Loader, "boot1.efi 14.2-RELEASE") {
		t.Errorf("booted through %s, want the new boot1.efi", rep.Loader)
	}
}

// TestLoaderOnOtherDisk: the firmware starts a loader on a disk outside
// the pool (its loader.env names the pool); zupgrade must find and update
// it before the pool upgrade, or the host stops at that loader's prompt.
func TestLoaderOnOtherDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "uefi", Release: "13.4-RELEASE", Disks: 2, ESPs: "all",
		OtherDisks: []string{"da0"},
		ESPFiles: []simhost.ESPFile{
			{Disk: "da0", Path: "efi/freebsd/loader.efi", Program: simhost.BlobLoaderEFI},
			{Disk: "da0", Path: "efi/freebsd/loader.env", Text: "rootdev=zfs:zroot/ROOT/default:\n"},
		},
		BootEntries: []simhost.BootEntry{{Label: "FreeBSD da0", Disk: "da0", Path: "efi/freebsd/loader.efi"}},
		BootOrder:   []string{"FreeBSD da0"},
	})
	code, out := h.zupgrade(nil, "plan", "--to", "14.2-RELEASE")
	if code != 0 || !strings.Contains(out, "da0p1") {
		t.Fatalf("plan does not mention the loader on da0 (exit %d):\n%s", code, out)
	}
	before := bootOrder(h.sh("efibootmgr"))
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	h.assertDone(code, log)
	// The entry made for ada1's loader must not change which entry the
	// firmware tries first: efibootmgr -c puts it first, zupgrade puts the
	// previous order back with the new entry last.
	out = h.sh("efibootmgr", "-v")
	after := bootOrder(out)
	if len(after) != len(before)+1 || strings.Join(after[:len(before)], ",") != strings.Join(before, ",") || !strings.Contains(out, "Boot"+after[len(after)-1]+"* FreeBSD ada1") {
		t.Errorf("BootOrder %v before, %v after; want the old order and the new entry for ada1 last:\n%s", before, after, out)
	}
	rep := h.boot(simhost.BootOptions{NoHooks: true})
	if !strings.Contains(rep.Path, "FreeBSD da0") || !strings.HasPrefix(rep.Kernel, "14.2") {
		t.Errorf("booted %s through %s, want 14.2 through da0's entry", rep.Kernel, rep.Path)
	}
	h.assertBootsEverywhere("14.2-RELEASE")
}

// TestBootCurrentCustomPath: the system was started from an entry whose
// file zupgrade does not write by name; it is FreeBSD's loader, so it is
// updated too, and that entry still starts the host after the upgrade.
// GRUB owns ada0's fallback (a dual-boot host): it is left as it is.
func TestBootCurrentCustomPath(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "uefi", Release: "13.4-RELEASE", Disks: 2, ESPs: "all",
		ESPFiles: []simhost.ESPFile{
			{Disk: "ada1", Path: "efi/custom/loader-13.efi", Program: simhost.BlobLoaderEFI},
			// A dual-boot host: GRUB owns ada0's fallback.
			{Disk: "ada0", Path: "EFI/BOOT/BOOTX64.efi", Program: "grub"},
		},
		BootEntries: []simhost.BootEntry{{Label: "FreeBSD custom", Disk: "ada1", Path: "efi/custom/loader-13.efi"}},
		BootOrder:   []string{"FreeBSD custom"},
	})
	code, out := h.zupgrade(nil, "plan", "--to", "14.2-RELEASE")
	if code != 0 || !strings.Contains(out, "efi/custom/loader-13.efi") {
		t.Fatalf("plan does not name the loader behind BootCurrent (exit %d):\n%s", code, out)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	h.assertDone(code, log)
	rep := h.boot(simhost.BootOptions{NoHooks: true})
	if !strings.Contains(rep.Path, "FreeBSD custom") || !strings.Contains(rep.Loader, "loader.efi 14.2-RELEASE") {
		t.Errorf("booted through %s with %s, want the custom entry with the new loader", rep.Path, rep.Loader)
	}
	if !strings.Contains(log, "bootx64.efi is not FreeBSD's loader: left alone") {
		t.Errorf("the run does not say it left GRUB alone:\n%s", log)
	}
	if got := h.espFile("ada0", "EFI/BOOT/BOOTX64.efi"); !strings.Contains(got, "GNU GRUB") {
		t.Errorf("ada0's fallback is no longer GRUB: %q", got)
	}
	h.assertBootsEverywhere("14.2-RELEASE")
}

// bootOrder reads the BootOrder line of efibootmgr's output.
func bootOrder(out string) []string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "BootOrder  : "); ok {
			return strings.Split(v, ", ")
		}
	}
	return nil
}

// TestFstabESPWithoutFailok: /etc/fstab mounts one disk's ESP at /boot/efi
// without failok; if that disk dies, the others boot to single-user mode
// only. plan warns and names the line and the fix.
func TestFstabESPWithoutFailok(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec *simhost.FstabESP
		line string
	}{
		{"bsdinstall's line", nil, "/dev/gpt/efiboot0"},
		{"by device", &simhost.FstabESP{Disk: "ada1", By: "device"}, "/dev/ada1p1"},
		{"with failok", &simhost.FstabESP{Disk: "ada0", Failok: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2, ESPs: "all", FstabESP: tt.spec})
			code, out := h.zupgrade(nil, "plan", "--to", "14.2-RELEASE")
			if code != 0 {
				t.Fatalf("plan: exit %d\n%s", code, out)
			}
			warned := strings.Contains(out, "[warn ] /boot/efi survives the loss of any disk")
			if tt.line == "" {
				if warned {
					t.Errorf("warned about a failok line:\n%s", out)
				}
				return
			}
			if !warned || !strings.Contains(out, tt.line+"\t/boot/efi\tmsdosfs\trw\t") || !strings.Contains(out, "rw,failok") {
				t.Errorf("no warning naming %s and the failok fix:\n%s", tt.line, out)
			}
		})
	}
}

// TestCreatedEntryOrderAfterFailure: efibootmgr -o fails right after
// efibootmgr -c made the new entry (first in BootOrder); the next apply
// finds the entry and puts it last.
func TestCreatedEntryOrderAfterFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2, ESPs: "all"})
	before := bootOrder(h.sh("efibootmgr"))
	if err := h.m.AddFault(simhost.Fault{Command: "efibootmgr", Args: "-o", Action: simhost.FaultFail, Message: "efibootmgr: Unabke to set BootOrder"}); err != nil {
		t.Fatal(err)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	if got := bootOrder(h.sh("efibootmgr")); len(got) != len(before)+1 || got[0] == before[0] {
		t.Fatalf("after the failure BootOrder is %v; the new entry should be first", got)
	}
	code, log = h.runUpgrade(nil)
	h.assertDone(code, log)
	after := bootOrder(h.sh("efibootmgr"))
	if len(after) != len(before)+1 || strings.Join(after[:len(before)], ",") != strings.Join(before, ",") {
		t.Errorf("BootOrder %v before, %v after; want the old order and the new entry last", before, after)
	}
}

// TestLegacyBoot1RevertedRefusesPoolUpgrade: boot1.efi on a legacy ESP is
// old again when the pool upgrade comes (restored from a backup, another
// tool): apply refuses to upgrade the pool, which the old boot1.efi could
// not read.
func TestLegacyBoot1RevertedRefusesPoolUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "uefi", Release: "13.4-RELEASE", Installed: "11.2-RELEASE", Disks: 2})
	old := h.espFile("ada1", "efi/boot/BOOTx64.efi")
	code, out := h.zupgrade(nil, "apply", "--to", "14.2-RELEASE", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	if h.espFile("ada1", "efi/boot/BOOTx64.efi") == old {
		t.Fatal("the bootcode step left boot1.efi 11.2 on ada1")
	}
	h.setESPFile("ada1", "efi/boot/BOOTx64.efi", old)
	// The reboot: the hook goes on through the world and the packages to
	// the pool upgrade.
	rep := h.boot(simhost.BootOptions{})
	h.wait() // the run the hook detached
	j := h.journal()
	if len(rep.Hooks) == 0 || j.Record("zpool-upgrade").State != "started" || !strings.Contains(j.Message, "refusing to upgrade pool features") {
		t.Fatalf("hooks %+v, journal %s: %s", rep.Hooks, j.Status, j.Message)
	}
	if f := h.sh("zpool", "get", "-H", "-o", "value", "feature@head_errlog", "zroot"); !strings.Contains(f, "disabled") {
		t.Errorf("head_errlog is %s: the pool was upgraded", f)
	}
}

// espFile reads a file of a disk's ESP from the model.
func (h *testHost) espFile(disk, p string) string {
	h.t.Helper()
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range model.Disks {
		for _, part := range d.Partitions {
			if d.Name == disk && part.FAT != nil {
				for _, f := range part.FAT.Files {
					if strings.EqualFold(f.Path, p) {
						return string(f.Data)
					}
				}
			}
		}
	}
	h.t.Fatalf("no %s on the ESP of %s", p, disk)
	return ""
}

// setESPFile replaces a file of a disk's ESP through the host's own
// commands, as another tool would: mount it, copy, unmount.
func (h *testHost) setESPFile(disk, p, data string) {
	h.t.Helper()
	if err := os.WriteFile(h.m.HostPath("/tmp/esp-file"), []byte(data), 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.sh("mount_msdosfs", "/dev/"+disk+"p1", "/mnt")
	h.sh("cp", "/tmp/esp-file", "/mnt/"+p)
	h.sh("umount", "/mnt")
}

// TestKilledWithESPMounted: apply is killed while it has a second disk's
// ESP mounted on its state directory; the next apply finds it mounted
// there, goes on with it and unmounts it.
func TestKilledWithESPMounted(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2, ESPs: "all"})
	if err := h.m.AddFault(simhost.Fault{Command: "cp", Args: "mnt/ada1p1/efi/freebsd/loader.efi.new", Action: simhost.FaultHang, Message: hangMessage}); err != nil {
		t.Fatal(err)
	}
	r := h.startZupgrade(nil, "apply", "--to", "14.2-RELEASE")
	// Wait for the hung cp: the ESP is mounted on the state directory.
	select {
	case <-r.hung:
	case <-r.done:
		t.Fatalf("apply ended before it mounted ada1's ESP:\n%s", r.output())
	}
	if !strings.Contains(h.sh("mount", "-p"), "mnt/ada1p1") {
		t.Fatalf("the copy to ada1's ESP hangs, but the ESP is not mounted:\n%s", h.sh("mount", "-p"))
	}
	h.killMachineProcesses()
	<-r.done
	// The hang was killed before it counted as fired: disarm it.
	if err := h.m.Update(func(m *simhost.Model) error { m.Faults = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	code, log := h.runUpgrade(nil)
	h.assertDone(code, log)
	h.assertBootsEverywhere("14.2-RELEASE")
	if strings.Contains(h.sh("mount", "-p"), "mnt/ada1p1") {
		t.Errorf("ada1's ESP is still mounted on the state directory:\n%s", h.sh("mount", "-p"))
	}
}
