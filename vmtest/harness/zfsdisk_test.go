// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeFreeBSDDisk reads the disks of every layout back with sgdisk
// and mtools: the partitions at their offsets with FreeBSD's type GUIDs
// and labels, the pool partition ending where gpart's alignment ends it,
// a FAT32 ESP holding the EFI directories where the layout has one; and
// with simhost's GPT reader, which the harness takes the layout from.
func TestMakeFreeBSDDisk(t *testing.T) {
	needTools(t, "the ZFS guest's disks need: ", MissingZFSDiskTools())
	type part struct{ n, guid, label, first string }
	const (
		efi  = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
		boot = "83BD6B9D-7F41-11DC-BE0B-001560B84F0F"
		swap = "516E7CB5-6ECF-11D6-8FF8-00022D09712B"
		zfs  = "516E7CBA-6ECF-11D6-8FF8-00022D09712B"
	)
	for _, c := range []struct {
		layout  *DiskLayout
		parts   []part
		espByte string
		pool    string
		// end is the pool partition's last sector: the disk's last
		// usable one is 8388574.
		end string
	}{
		{bsdinstallLayout, []part{
			{"1", efi, "efiboot1", "40"},
			{"2", boot, "gptboot1", "532520"},
			{"3", swap, "swap1", "534528"},
			{"4", zfs, "zfs1", "665600"},
		}, "20480", "ada1p4", "8386559"},
		{bsdinstallUEFILayout, []part{
			{"1", efi, "efiboot1", "40"},
			{"2", swap, "swap1", "534528"},
			{"3", zfs, "zfs1", "665600"},
		}, "20480", "ada1p3", "8386559"},
		{bsdinstallBIOSLayout, []part{
			{"1", boot, "gptboot1", "40"},
			{"2", swap, "swap1", "2048"},
			{"3", zfs, "zfs1", "133120"},
		}, "", "ada1p3", "8386559"},
		{handMadeLayout, []part{
			{"1", boot, "boot1", "40"},
			{"2", efi, "efi1", "1064"},
			{"3", zfs, "zfs1", "410664"},
		}, "544768", "gpt/zfs1", "8388567"},
	} {
		t.Run(c.layout.Name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "ada1.img")
			if err := MakeFreeBSDDisk(img, c.layout, 1); err != nil {
				t.Fatal(err)
			}
			for _, p := range c.parts {
				out, err := exec.Command("sgdisk", "-i", p.n, img).CombinedOutput()
				if err != nil {
					t.Fatalf("sgdisk -i %s: %v\n%s", p.n, err, out)
				}
				s := string(out)
				if !strings.Contains(s, "Partition GUID code: "+p.guid) || !strings.Contains(s, "Partition name: '"+p.label+"'") || !strings.Contains(s, "First sector: "+p.first+" ") {
					t.Errorf("partition %s:\n%s", p.n, s)
				}
			}
			pool := c.parts[len(c.parts)-1].n
			out, err := exec.Command("sgdisk", "-i", pool, img).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Last sector: "+c.end+" ") {
				t.Errorf("the pool partition p%s does not end at %s: %v\n%s", pool, c.end, err, out)
			}
			out, err = exec.Command("sgdisk", "-p", img).CombinedOutput()
			if n := strings.Count(string(out), "\n   "); err != nil || n != len(c.parts) {
				t.Errorf("sgdisk -p: %d partitions, want %d: %v\n%s", n, len(c.parts), err, out)
			}
			if c.espByte != "" {
				out, err = exec.Command("minfo", "-i", img+"@@"+c.espByte, "::").CombinedOutput()
				if err != nil || !strings.Contains(string(out), `disk type="FAT32`) {
					t.Errorf("the ESP is not FAT32: %v\n%s", err, out)
				}
				out, err = exec.Command("mdir", "-b", "-i", img+"@@"+c.espByte, "::/EFI").CombinedOutput()
				if err != nil || !strings.Contains(string(out), "BOOT") || !strings.Contains(string(out), "freebsd") {
					t.Errorf("mdir ::/EFI: %v\n%s", err, out)
				}
			}
			d, err := readZFSDisk("ada1", img, c.layout)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Parts) != len(c.parts) || d.poolDev() != c.pool {
				t.Errorf("simhost's GPT reader: %d partitions, pool device %q; want %d, %s", len(d.Parts), d.poolDev(), len(c.parts), c.pool)
			}
			line, err := d.tableLine("vdb")
			last := c.parts[len(c.parts)-1].n
			want := "vdb ada1 " + last + " " + last
			for _, p := range c.parts {
				want += " " + p.n + ":" + p.label
			}
			if err != nil || line != want+"\n" {
				t.Errorf("the guest's disk table line %q, %v; want %q", line, err, want)
			}
			if got := strings.Join(d.poolNames(), " "); got != "ada1p"+last+" gpt/zfs1" {
				t.Errorf("the pool partition's names %q, want ada1p%s gpt/zfs1", got, last)
			}
		})
	}
}
