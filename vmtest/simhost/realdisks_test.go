// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealReplaceOnLabels: on a mirror made on GPT labels (gpt/zfs0,
// gpt/zfs1, as an admin who partitioned by hand makes it), a dead ada1
// replaced by a new disk with the others' partition table is replaced in
// the real pool by the member's recorded path, not by the new disk's
// device name, which no member of the pool has: with the labels the
// admin gave the new disk again, zpool replace zroot gpt/zfs1 (the new
// member keeps its gpt/ name); without labels (gpart restore copies
// none), zpool replace zroot /dev/gpt/zfs1 ada1p3. The fake real pool
// refuses a device none of its members has, as zpool_find_vdev does.
func TestRealReplaceOnLabels(t *testing.T) {
	layout := func(n string) []PartitionSpec {
		return []PartitionSpec{
			{Type: "freebsd-boot", Index: 1, Label: "boot" + n, Size: "512K"},
			{Type: "efi", Index: 2, Label: "efi" + n, Size: "204800K"},
			{Type: "freebsd-zfs", Index: 3, Label: "zfs" + n},
		}
	}
	for _, c := range []struct {
		labels          bool
		call, member    string
		recorded, label string
	}{
		{true, "zpool replace -f zroot gpt/zfs1\n", "gpt/zfs1", "/dev/gpt/zfs0 /dev/gpt/zfs1", "zfs1"},
		{false, "zpool replace -f zroot /dev/gpt/zfs1 ada1p3\n", "ada1p3", "/dev/gpt/zfs0 /dev/ada1p3", ""},
	} {
		name := "labels"
		if !c.labels {
			name = "no-labels"
		}
		t.Run(name, func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2, Naming: "gpt-label",
				Layouts: map[string][]PartitionSpec{"ada0": layout("0"), "ada1": layout("1")}})
			if got := strings.Join(memberNames(tm.model()), " "); got != "gpt/zfs0 gpt/zfs1" {
				t.Fatalf("the pool's members %s, want gpt/zfs0 gpt/zfs1", got)
			}
			// The new disk in ada1's place: the others' table, with new
			// GUIDs, labelled only if the admin labelled it.
			dev := t.TempDir()
			d := *tm.model().Disks[1]
			d.Partitions = nil
			for _, p := range tm.model().Disks[1].Partitions {
				np := *p
				np.RawUUID = strings.Replace(np.RawUUID, np.RawUUID[:8], "0badd15c", 1)
				if !c.labels {
					np.Label = ""
				}
				d.Partitions = append(d.Partitions, &np)
			}
			writeRealGPT(t, &d, filepath.Join(dev, "ada1"))
			if err := tm.UseRealDisks(dev); err != nil {
				t.Fatal(err)
			}
			zdir := fakeRealZFS(t)
			if err := os.WriteFile(filepath.Join(zdir, "members"), []byte("/dev/gpt/zfs0\n/dev/gpt/zfs1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := tm.UseRealZFS(zdir); err != nil {
				t.Fatal(err)
			}
			if err := tm.ReplaceDisk(Replacement{Disk: "ada1", Labels: c.labels}); err != nil {
				t.Fatalf("ReplaceDisk: %v", err)
			}
			calls, _ := os.ReadFile(filepath.Join(zdir, "calls.log"))
			if !strings.Contains(string(calls), c.call) {
				t.Errorf("the real programs ran:\n%s\nwant %q", calls, c.call)
			}
			if rec, _ := os.ReadFile(filepath.Join(zdir, "members")); strings.Join(strings.Fields(string(rec)), " ") != c.recorded {
				t.Errorf("the real pool's members %q, want %s", rec, c.recorded)
			}
			if got := memberNames(tm.model()); len(got) != 2 || got[1] != c.member {
				t.Errorf("the model's members %v, want gpt/zfs0 %s", got, c.member)
			}
			if p := tm.model().partition("ada1", 3); p == nil || p.Label != c.label || !strings.HasPrefix(p.RawUUID, "0badd15c") {
				t.Errorf("the model's ada1p3 %+v, want the real disk's: label %q, its GUID", p, c.label)
			}
		})
	}
}

// memberNames are the names of the first pool's members, in order.
func memberNames(m *Model) []string {
	var out []string
	for _, v := range m.Pools[0].leaves() {
		out = append(out, v.Name)
	}
	return out
}
