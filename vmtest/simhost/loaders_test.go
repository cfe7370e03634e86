// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestLegacyBoot1ESP: a host installed with 11.2 (800K boot1.efifat ESP on
// every disk) and upgraded since still starts boot1.efi 11.2, which reads
// the pool with its own ZFS code: a pool upgrade makes it unbootable until
// boot1.efi is replaced from /boot/boot1.efi.
func TestLegacyBoot1ESP(t *testing.T) {
	spec := Spec{Preset: "uefi", Release: "14.1-RELEASE", Installed: "11.2-RELEASE", Disks: 2}
	tm := newMachine(t, spec)
	model := tm.model()
	for _, d := range model.Disks {
		esp := findPartition(d, "efi")
		if esp.Size != sectorsESP800K || esp.FAT == nil || esp.FAT.Bits != 12 {
			t.Fatalf("%s: ESP of %d sectors, FAT %+v; want the 800K boot1.efifat", d.Name, esp.Size, esp.FAT)
		}
		if b, ok := parseBlob(esp.FAT.lookup("efi/boot/BOOTx64.efi").Data); !ok || b.Kind != BlobBoot1EFI || b.Release.String() != "11.2-RELEASE" {
			t.Fatalf("%s: fallback holds %+v, want boot1.efi 11.2", d.Name, b)
		}
	}
	if got := tm.must("cat", "/boot/boot1.efi"); !strings.Contains(got, "FreeBSD boot1.efi 14.1-RELEASE") || !strings.Contains(got, ">> FreeBSD EFI boot block") {
		t.Fatalf("/boot/boot1.efi: %q", got)
	}
	tm.mustOK("", "zpool", "upgrade", "zroot")
	rep := tm.reboot(BootOptions{NoHooks: true})
	if rep.Booted || !strings.Contains(rep.Reason, "boot1.efi 11.2-RELEASE") || !strings.Contains(rep.Reason, "com.delphix:head_errlog") {
		t.Fatalf("booted %v: %s\n%s", rep.Booted, rep.Reason, strings.Join(rep.Console, "\n"))
	}

	t.Run("boot1.efi replaced first", func(t *testing.T) { legacyControl(t, spec) })
}

// legacyControl replaces boot1.efi on every ESP, then upgrades the pool.
func legacyControl(t *testing.T, spec Spec) {
	tm := newMachine(t, spec)
	for _, d := range []string{"ada0", "ada1"} {
		tm.mustOK("", "mount_msdosfs", "/dev/"+d+"p1", "/mnt")
		tm.mustOK("", "cp", "/boot/boot1.efi", "/mnt/efi/boot/BOOTx64.efi")
		tm.mustOK("", "umount", "/mnt")
	}
	tm.mustOK("", "zpool", "upgrade", "zroot")
	for _, d := range []string{"ada0", "ada1"} {
		tm.mustOK("", "shutdown", "-r", "now")
		rep := tm.mustBoot(BootOptions{FirstDisk: d, NoHooks: true})
		if rep.Disk != d || !strings.Contains(rep.Loader, "boot1.efi 14.1-RELEASE, then loader.efi 14.1-RELEASE") {
			t.Errorf("booted from %s with %s, want %s with the new boot1.efi", rep.Disk, rep.Loader, d)
		}
	}
}

// TestLoaderReturnsToFirmware: a loader.efi that finds no pool it can read
// returns to the firmware, which tries the next entry of BootOrder.
func TestLoaderReturnsToFirmware(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "uefi", Release: "14.1-RELEASE", Disks: 2, ESPs: "all",
		OtherDisks:  []string{"da0"},
		ESPFiles:    []ESPFile{{Disk: "da0", Path: "efi/freebsd/loader.efi", Program: BlobLoaderEFI, Release: "13.0-RELEASE"}},
		BootEntries: []BootEntry{{Label: "FreeBSD da0", Disk: "da0", Path: "efi/freebsd/loader.efi"}},
		BootOrder:   []string{"FreeBSD da0"},
	})
	rep := tm.model().LastBoot
	if rep.Disk != "ada0" || !strings.Contains(strings.Join(rep.Console, "\n"), "Failed to find bootable partition (no pool on da0)") {
		t.Errorf("booted from %s:\n%s", rep.Disk, strings.Join(rep.Console, "\n"))
	}
	out := tm.must("efibootmgr", "-v")
	if !strings.HasPrefix(strings.SplitN(out, "BootOrder", 2)[1], "  : 0004, 0000, 0001") || !strings.Contains(out, "BootCurrent: 0000\n") {
		t.Errorf("efibootmgr -v:\n%s", out)
	}

	t.Run("rootdev in loader.env", rootdevLoader)
}

// rootdevLoader: with rootdev in da0's loader.env, da0's loader boots the
// pool, and after a pool upgrade it stops at its prompt: nothing else is
// tried.
func rootdevLoader(t *testing.T) {
	spec := Spec{Preset: "uefi", Release: "14.1-RELEASE", PoolRelease: "13.4-RELEASE", Disks: 2, ESPs: "all",
		OtherDisks: []string{"da0"},
		ESPFiles: []ESPFile{
			{Disk: "da0", Path: "efi/freebsd/loader.efi", Program: BlobLoaderEFI, Release: "13.0-RELEASE"},
			{Disk: "da0", Path: "efi/freebsd/loader.env", Text: "rootdev=zfs:zroot/ROOT/default:\n"},
		},
		BootEntries: []BootEntry{{Label: "FreeBSD da0", Disk: "da0", Path: "efi/freebsd/loader.efi"}},
		BootOrder:   []string{"FreeBSD da0"},
	}
	tm := newMachine(t, spec)
	if rep := tm.model().LastBoot; rep.Disk != "da0" {
		t.Fatalf("with rootdev: booted from %s (%s)", rep.Disk, rep.Path)
	}
	tm.mustOK("", "zpool", "upgrade", "zroot")
	if rep := tm.reboot(BootOptions{NoHooks: true}); rep.Booted || !strings.Contains(rep.Reason, "loader.efi 13.0-RELEASE on da0p1") {
		t.Errorf("after the pool upgrade: booted %v: %s", rep.Booted, rep.Reason)
	}
}

// TestSpecBootCurrentAndFstab: the first boot starts the entry boot_current
// names (BootNext), and fstab_esp writes the /boot/efi line.
func TestSpecBootCurrentAndFstab(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE", Disks: 2, ESPs: "all",
		ESPFiles:    []ESPFile{{Disk: "ada1", Path: "efi/freebsd/loader.efi", Program: BlobLoaderEFI}},
		BootEntries: []BootEntry{{Label: "FreeBSD ada1", Disk: "ada1", Path: "efi/freebsd/loader.efi"}},
		BootCurrent: "FreeBSD ada1",
		FstabESP:    &FstabESP{Disk: "ada1", By: "device"},
	})
	out := tm.must("efibootmgr")
	if !strings.Contains(out, "BootCurrent: 0003\n") || !strings.Contains(out, "BootOrder  : 0000, 0001, 0002, 0003\n") || !strings.Contains(out, "+Boot0003* FreeBSD ada1\n") {
		t.Errorf("efibootmgr:\n%s", out)
	}
	if fstab := tm.must("cat", "/etc/fstab"); !strings.Contains(fstab, "/dev/ada1p1\t/boot/efi\tmsdosfs\trw\t") {
		t.Errorf("fstab:\n%s", fstab)
	}
	// ada1 gone: rc cannot mount /boot/efi and stops in single-user mode.
	tm.mustOK("", "shutdown", "-r", "now")
	if err := tm.RemoveDisk("ada1"); err != nil {
		t.Fatal(err)
	}
	if rep := tm.boot(BootOptions{NoHooks: true}); rep.State != "single-user" {
		t.Errorf("ada1 removed: %s: %s", rep.State, rep.Reason)
	}
}

// TestEfibootmgrCreateGoesFirst: efibootmgr -c takes the first free number
// and puts it in front of BootOrder (make_boot_var, add_to_boot_order);
// -o takes the numbers as given.
func TestEfibootmgrCreateGoesFirst(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE", Disks: 2, ESPs: "all"})
	tm.mustOK("", "mount_msdosfs", "/dev/ada1p1", "/mnt")
	out := tm.mustOK("", "efibootmgr", "-a", "-c", "-l", "/mnt/efi/freebsd/loader.efi", "-L", "FreeBSD ada1")
	if !strings.Contains(out, "BootOrder  : 0003, 0000, 0001, 0002\n") {
		t.Errorf("efibootmgr -c:\n%s", out)
	}
	out = tm.mustOK("", "efibootmgr", "-o", "0000,0001,0003")
	if !strings.Contains(out, "BootOrder  : 0000, 0001, 0003\n") || strings.Contains(out, "Boot0002") {
		t.Errorf("efibootmgr -o:\n%s", out)
	}
	out = tm.mustOK("", "efibootmgr", "-v")
	if i := strings.Index(out, "Unreferenced Variables:"); i < 0 || !strings.Contains(out[i:], "Boot0002") {
		t.Errorf("efibootmgr -v does not list Boot0002 as unreferenced:\n%s", out)
	}
}
