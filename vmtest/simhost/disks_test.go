// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestLayoutsByHand: disks partitioned by hand, with partitions in another
// order, other indexes and crossed labels (gpt/zfs0 on ada1), show in
// gpart, glabel and zpool status as laid out, and the machine boots.
func TestLayoutsByHand(t *testing.T) {
	layout := func(zfsLabel string) []PartitionSpec {
		return []PartitionSpec{
			{Type: "freebsd-zfs", Index: 4, Label: zfsLabel, Size: "30G"},
			{Type: "freebsd-swap", Index: 2, Size: "1G"},
			{Type: "freebsd-boot", Index: 7, Label: "boot-" + zfsLabel},
			{Type: "efi", Index: 9, Label: "esp-" + zfsLabel},
		}
	}
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Naming: "gpt-label", ESPs: "all",
		Layouts: map[string][]PartitionSpec{"ada0": layout("zfs1"), "ada1": layout("zfs0")}})
	show := tm.must("gpart", "show", "-l", "ada1")
	for _, want := range []string{"  4  zfs0  (30G)", "  2  (null)  (1.0G)", "  7  boot-zfs0  (512K)", "  9  esp-zfs0  (260M)"} {
		if !strings.Contains(show, want) {
			t.Errorf("gpart show -l ada1 lacks %q:\n%s", want, show)
		}
	}
	if got := tm.must("glabel", "status"); !strings.Contains(got, "gpt/zfs0     N/A  ada1p4") || !strings.Contains(got, "gpt/zfs1     N/A  ada0p4") {
		t.Errorf("glabel status:\n%s", got)
	}
	if got := tm.must("zpool", "status"); !strings.Contains(got, "\t    gpt/zfs1  ONLINE       0     0     0\n\t    gpt/zfs0  ONLINE") {
		t.Errorf("zpool status (ada0's member first):\n%s", got)
	}
	if got := tm.must("cat", "/etc/fstab"); !strings.Contains(got, "/dev/gpt/esp-zfs1\t/boot/efi\tmsdosfs") {
		t.Errorf("fstab names the first ESP by another name:\n%s", got)
	}
	for _, disk := range []string{"ada0", "ada1"} {
		if rep := tm.mustBoot(BootOptions{FirstDisk: disk}); rep.Disk != disk {
			t.Errorf("booted from %s, want %s", rep.Disk, disk)
		}
	}
	if _, err := New(t.TempDir(), Spec{Layouts: map[string][]PartitionSpec{"ada0": {{Type: "freebsd-boot"}}}}, ""); err == nil || !strings.Contains(err.Error(), "0 freebsd-zfs partitions") {
		t.Errorf("a layout without a pool member: %v", err)
	}
}

// TestResilveringMember: a member back after an absence is resilvered; zpool
// status says so in the formats of zpool_main.c for the running release.
func TestResilveringMember(t *testing.T) {
	for _, tt := range []struct{ release, scan string }{
		{"14.2-RELEASE", "\t893M / 2.00G scanned at 402M/s, 893M / 2.00G issued at 264M/s\n\t881M resilvered, 43.61% done, 00:03:21 to go\n"},
		{"13.2-RELEASE", "\t893M scanned at 402M/s, 893M issued at 264M/s, 2.00G total\n\t881M resilvered, 43.61% done, 0 days 00:03:21 to go\n"},
	} {
		t.Run(tt.release, func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: tt.release, Resilvering: []string{"ada1"}})
			got := tm.must("zpool", "status")
			for _, want := range []string{" state: ONLINE\nstatus: One or more devices is currently being resilvered.", "  scan: resilver in progress since ", tt.scan,
				"\t    ada1p3  ONLINE       0     0     0  (resilvering)\n"} {
				if !strings.Contains(got, want) {
					t.Errorf("zpool status lacks %q:\n%s", want, got)
				}
			}
		})
	}
}

// TestReplacedDisk: a dead disk replaced by a new one at the same name,
// while resilvering (a replacing group with the old member) and after it,
// with the boot code the admin did or did not write.
func TestReplacedDisk(t *testing.T) {
	t.Run("resilvering", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Replaced: []Replacement{{Disk: "ada1", Resilvering: true}}})
		got := squash(tm.must("zpool", "status"))
		for _, want := range []string{" state: DEGRADED\n status: One or more devices is currently being resilvered.",
			"\n mirror-0 DEGRADED 0 0 0\n ada0p3 ONLINE 0 0 0\n replacing-1 DEGRADED 0 0 0\n ",
			" UNAVAIL 0 0 0 was /dev/ada1p3/old\n ada1p3 ONLINE 0 0 0 (resilvering)\n"} {
			if !strings.Contains(got, want) {
				t.Errorf("zpool status lacks %q:\n%s", want, got)
			}
		}
		if err := tm.FinishResilver(); err != nil {
			t.Fatal(err)
		}
		got = tm.must("zpool", "status")
		if !strings.Contains(got, " state: ONLINE\n  scan: resilvered 2.00G in 00:05:") || !strings.Contains(got, " with 0 errors on ") || !strings.Contains(got, "\t  mirror-0  ONLINE       0     0     0\n\t    ada0p3  ONLINE       0     0     0\n\t    ada1p3  ONLINE       0     0     0\n") {
			t.Errorf("zpool status after the resilver:\n%s", got)
		}
	})
	t.Run("resilvered, no boot code written", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Naming: "gpt-label", ESPs: "all", Replaced: []Replacement{{Disk: "ada1"}}})
		orig, err := New(t.TempDir(), Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Naming: "gpt-label", ESPs: "all"}, "")
		if err != nil {
			t.Fatal(err)
		}
		before, err := orig.Model()
		if err != nil {
			t.Fatal(err)
		}
		m := tm.model()
		d, old := m.disk("ada1"), before.disk("ada1")
		if d.Serial == old.Serial || d.Partitions[3].RawUUID == old.Partitions[3].RawUUID || len(d.BootArea) != 0 || d.Partitions[0].FAT != nil || d.Partitions[1].Data != nil {
			t.Errorf("the new disk is not blank: %+v", d)
		}
		// gpart restore copied no labels, so the admin replaced onto ada1p4.
		if got := tm.must("zpool", "status"); !strings.Contains(got, "\t    gpt/zfs0  ONLINE       0     0     0\n\t    ada1p4    ONLINE       0     0     0\n") {
			t.Errorf("zpool status:\n%s", got)
		}
		if got := tm.must("gpart", "show", "-l", "ada1"); !strings.Contains(got, "4  (null)  (38G)") {
			t.Errorf("gpart show -l ada1:\n%s", got)
		}
		if rep := tm.boot(BootOptions{FirstDisk: "ada1"}); rep.Disk == "ada1" {
			t.Errorf("booted from the new disk without boot code: %+v", rep)
		}
	})
	t.Run("labels and boot code written, GELI", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Naming: "gpt-label", Geli: true, Replaced: []Replacement{{Disk: "ada1", Labels: true, Bootcode: true}}})
		if got := tm.must("zpool", "status"); !strings.Contains(got, "\t    gpt/zfs1.eli  ONLINE") {
			t.Errorf("zpool status:\n%s", got)
		}
		if rep := tm.mustBoot(BootOptions{FirstDisk: "ada1"}); rep.Disk != "ada1" {
			t.Errorf("booted from %s, want the new ada1", rep.Disk)
		}
	})
	t.Run("at run time", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Naming: "gptid"})
		old := tm.model().disk("ada1").Partitions[2].RawUUID
		if err := tm.RemoveDisk("ada1"); err != nil {
			t.Fatal(err)
		}
		if err := tm.ReplaceDisk(Replacement{Disk: "ada1", Resilvering: true, Bootcode: true}); err != nil {
			t.Fatal(err)
		}
		m := tm.model()
		if uuid := m.disk("ada1").Partitions[2].RawUUID; uuid == old || !strings.Contains(tm.must("zpool", "status"), "gptid/"+uuid+"  ONLINE       0     0     0  (resilvering)") {
			t.Errorf("zpool status after the replace:\n%s", tm.must("zpool", "status"))
		}
		if rep := tm.mustBoot(BootOptions{FirstDisk: "ada1"}); rep.Disk != "ada1" {
			t.Errorf("booted from %s, want the new ada1", rep.Disk)
		}
	})
}

// squash makes every run of blanks one space, so that outputs compare
// without their column widths.
func squash(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = " " + strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// TestZpoolDetach: zpool detach takes a member out of a mirror; the last
// one stays (libzfs_pool.c zpool_vdev_detach).
func TestZpoolDetach(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Disks: 3})
	if err := tm.RemoveDisk("ada2"); err != nil {
		t.Fatal(err)
	}
	guid := ""
	for _, l := range strings.Split(tm.must("zpool", "status"), "\n") {
		if strings.Contains(l, "was /dev/ada2p3") {
			guid = strings.Fields(l)[0]
		}
	}
	tm.mustOK("", "zpool", "detach", "zroot", guid)
	tm.mustOK("", "zpool", "detach", "zroot", "ada1p3")
	got := tm.must("zpool", "status")
	if !strings.Contains(got, " state: ONLINE\n") || !strings.Contains(got, "\tzroot       ONLINE       0     0     0\n\t  ada0p3    ONLINE       0     0     0\n") {
		t.Errorf("zpool status after detaching two of three:\n%s", got)
	}
	if r := tm.run("zpool", "detach", "zroot", "ada0p3"); r.code != 1 || r.err != "cannot detach ada0p3: only applicable to mirror and replacing vdevs\n" {
		t.Errorf("detaching the last member: %v", r)
	}
	if r := tm.run("zpool", "detach", "zroot", "ada9p3"); r.code != 1 || r.err != "cannot detach ada9p3: no such device in pool\n" {
		t.Errorf("detaching what is not there: %v", r)
	}
}
