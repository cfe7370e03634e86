// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// snapshotDisks renders the disks of the model for comparison.
func snapshotDisks(t *testing.T, tm *testMachine) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range tm.model().Disks {
		for _, p := range d.Partitions {
			data, _ := json.Marshal(p)
			out[partName(d, p)] = string(data)
		}
		out[d.Name] = string(d.BootArea)
	}
	return out
}

// TestGpartBootcode checks where gpart bootcode writes and what it breaks.
func TestGpartBootcode(t *testing.T) {
	t.Run("writes that partition of that disk only", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "13.2-RELEASE", Firmware: "BIOS"})
		// Put newer boot code in /boot, as install #1 would.
		tm.mustOK("", "cp", "/boot/gptzfsboot", "/root/old")
		newCode := makeBlob(BlobGPTZFSBoot, MustRelease("14.2-RELEASE"), "amd64")
		if err := tm.Update(func(*Model) error {
			return writeTree(tm.Root, map[string]treeFile{"/boot/gptzfsboot": {Data: newCode, Mode: 0o444}})
		}); err != nil {
			t.Fatal(err)
		}
		before := snapshotDisks(t, tm)
		out := tm.mustOK("", "gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "2", "ada1")
		if out != "partcode written to ada1p2\nbootcode written to ada1\n" {
			t.Errorf("output %q", out)
		}
		after := snapshotDisks(t, tm)
		for k := range before {
			if (before[k] != after[k]) != (k == "ada1p2") {
				t.Errorf("%s changed: %v", k, before[k] != after[k])
			}
		}
		read := tm.must("dd", "if=/dev/ada1p2", "bs=512", "count=1")
		if !bytes.HasPrefix([]byte(read), newCode[:len(read)]) {
			t.Errorf("read back of ada1p2 does not start with the new gptzfsboot")
		}
	})
	t.Run("errors", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE"})
		for _, c := range []struct {
			argv []string
			err  string
		}{
			{[]string{"gpart", "bootcode", "-p", "/boot/gptzfsboot", "ada0"}, "gpart: missing -i option\n"},
			{[]string{"gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "9", "ada0"}, "gpart: invalid partition index\n"},
			{[]string{"gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "2", "ada7"}, "gpart: No such geom: ada7.\n"},
			{[]string{"gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "4", "ada0"}, "gpart: /dev/ada0p4: Operation not permitted\n"},
			{[]string{"gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "1", "ada0"}, "gpart: /dev/ada0p1: Operation not permitted\n"},
			{[]string{"gpart", "bootcode", "-p", "/boot/nonexistent", "-i", "2", "ada0"}, "gpart: /boot/nonexistent: No such file or directory\n"},
		} {
			before := snapshotDisks(t, tm)
			r := tm.run(c.argv...)
			if r.code != 1 || r.err != c.err {
				t.Errorf("%s: %v, want exit 1 and %q", strings.Join(c.argv, " "), r, c.err)
			}
			if after := snapshotDisks(t, tm); len(after) != len(before) || func() bool {
				for k := range before {
					if before[k] != after[k] {
						return true
					}
				}
				return false
			}() {
				t.Errorf("%s changed the disks", strings.Join(c.argv, " "))
			}
		}
	})
	t.Run("over an unmounted ESP corrupts it", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE", ESPs: "all", ESPInFstab: new(bool)})
		tm.mustOK("", "gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "1", "ada1")
		if got := tm.must("file", "-s", "/dev/ada1p1"); strings.Contains(got, "FAT") {
			t.Errorf("ESP still holds FAT: %s", got)
		}
		r := tm.run("mount_msdosfs", "/dev/ada1p1", "/mnt")
		if r.code != 1 || r.err != "mount_msdosfs: /dev/ada1p1: Invalid argument\n" {
			t.Errorf("mounting the corrupted ESP: %v", r)
		}
	})
	t.Run("over swap corrupts it", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
		tm.mustOK("", "gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "2", "ada0")
		if p := tm.model().partition("ada0", 2); p.Corrupt == "" {
			t.Errorf("swap partition not marked corrupt")
		}
	})
	t.Run("boot1.efifat makes a FAT ESP", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "11.4-RELEASE", ESPs: "first"})
		tm.mustOK("", "gpart", "bootcode", "-p", "/boot/boot1.efifat", "-i", "1", "ada1")
		if got := tm.must("file", "-s", "/dev/ada1p1"); !strings.Contains(got, "FAT (12 bit)") {
			t.Errorf("file -s after writing boot1.efifat: %s", got)
		}
	})
}

// TestMountedESP covers mount_msdosfs, the files of a mounted ESP, sync
// and umount.
func TestMountedESP(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE", ESPs: "all"})
	if r := tm.run("mount_msdosfs", "/dev/ada0p1", "/mnt"); r.code != 1 || !strings.Contains(r.err, "Device busy") {
		t.Errorf("mounting the ESP mounted at /boot/efi again: %v", r)
	}
	if r := tm.run("mount_msdosfs", "/dev/ada1p1", "/nonexistent"); r.code != 1 {
		t.Errorf("mount on a missing directory: %v", r)
	}
	tm.mustOK("", "mount_msdosfs", "/dev/ada1p1", "/mnt")
	if got := tm.must("ls", "-1", "/mnt/EFI/BOOT"); got != "bootx64.efi\n" {
		t.Errorf("ls of the ESP (any case): %q", got)
	}
	if got := tm.must("mount", "-p"); !strings.Contains(got, "/dev/ada1p1\t\t/mnt\t\t\tmsdosfs\trw\t\t0 0\n") {
		t.Errorf("mount -p:\n%s", got)
	}
	tm.mustOK("", "mkdir", "-p", "/mnt/efi/freebsd")
	tm.mustOK("", "install", "-m", "0444", "/boot/loader.efi", "/mnt/efi/freebsd/loader.efi")
	sum1 := strings.Fields(tm.must("sha256", "-r", "/boot/loader.efi"))[0]
	sum2 := strings.Fields(tm.must("sha256", "-r", "/mnt/efi/freebsd/loader.efi"))[0]
	if sum1 != sum2 {
		t.Errorf("copied loader differs")
	}
	tm.mustOK("", "umount", "/mnt")
	if got := tm.must("ls", "-1", "/mnt"); got != "" {
		t.Errorf("/mnt after umount: %q", got)
	}
	esp := tm.model().partition("ada1", 1).FAT
	if esp.lookup("efi/freebsd/loader.efi") == nil || len(esp.Written) != 0 {
		t.Errorf("umount did not write the ESP's files: %+v", esp)
	}
}

// TestNewfsMsdos formats the ESP the installer left empty, which then
// boots once it holds a loader.
func TestNewfsMsdos(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE"})
	if r := tm.run("newfs_msdos", "-F", "32", "-c", "1", "/dev/ada0p1"); r.code != 1 || !strings.Contains(r.err, "Operation not permitted") {
		t.Errorf("formatting the mounted ESP: %v", r)
	}
	out := tm.mustOK("", "newfs_msdos", "-F", "32", "-c", "1", "-L", "EFISYS", "/dev/ada1p1")
	if !strings.HasPrefix(out, "/dev/ada1p1: ") {
		t.Errorf("newfs_msdos: %q", out)
	}
	if got := tm.must("file", "-s", "/dev/ada1p1"); !strings.Contains(got, "FAT (32 bit)") || !strings.Contains(got, `label: "EFISYS     "`) {
		t.Errorf("file -s: %s", got)
	}
	tm.mustOK("", "mount_msdosfs", "/dev/ada1p1", "/mnt")
	tm.mustOK("", "mkdir", "-p", "/mnt/efi/boot")
	tm.mustOK("", "cp", "/boot/loader.efi", "/mnt/efi/boot/bootx64.efi")
	tm.mustOK("", "umount", "/mnt")
	tm.mustOK("", "shutdown", "-r", "now")
	if err := tm.RemoveDisk("ada0"); err != nil {
		t.Fatal(err)
	}
	rep := tm.boot(BootOptions{})
	if rep.Disk != "ada1" || rep.State != "single-user" || !strings.Contains(rep.Reason, "Mounting /etc/fstab filesystems failed") {
		t.Errorf("boot from the new ESP with ada0 gone (fstab still names efiboot0): %+v", rep)
	}
}
