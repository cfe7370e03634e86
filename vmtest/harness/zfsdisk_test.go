// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeFreeBSDDisk reads the disk back with sgdisk and mtools: the
// bsdinstall BIOS+UEFI partitions at their offsets with FreeBSD's type
// GUIDs and labels, a FAT32 ESP holding the EFI directories.
func TestMakeFreeBSDDisk(t *testing.T) {
	if missing := MissingZFSDiskTools(); len(missing) > 0 {
		msg := "the ZFS guest's disks need: " + strings.Join(missing, ", ")
		if os.Getenv(CIEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	img := filepath.Join(t.TempDir(), "ada1.img")
	if err := MakeFreeBSDDisk(img, 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ n, guid, label, first string }{
		{"1", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "efiboot1", "40"},
		{"2", "83BD6B9D-7F41-11DC-BE0B-001560B84F0F", "gptboot1", "532520"},
		{"3", "516E7CB5-6ECF-11D6-8FF8-00022D09712B", "swap1", "534528"},
		{"4", "516E7CBA-6ECF-11D6-8FF8-00022D09712B", "zfs1", "665600"},
	} {
		out, err := exec.Command("sgdisk", "-i", p.n, img).CombinedOutput()
		if err != nil {
			t.Fatalf("sgdisk -i %s: %v\n%s", p.n, err, out)
		}
		s := string(out)
		if !strings.Contains(s, "Partition GUID code: "+p.guid) || !strings.Contains(s, "Partition name: '"+p.label+"'") || !strings.Contains(s, "First sector: "+p.first+" ") {
			t.Errorf("partition %s:\n%s", p.n, s)
		}
	}
	out, err := exec.Command("minfo", "-i", img+"@@20480", "::").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `disk type="FAT32`) {
		t.Errorf("the ESP is not FAT32: %v\n%s", err, out)
	}
	out, err = exec.Command("mdir", "-b", "-i", img+"@@20480", "::/EFI").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "BOOT") || !strings.Contains(string(out), "freebsd") {
		t.Errorf("mdir ::/EFI: %v\n%s", err, out)
	}
}
