// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProblemsMessages(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"zpool-status-mirror-degraded-unavail-guid.txt", []string{
			"pool mypool: the pool is DEGRADED: it still works but has lost redundancy; one more failure can lose data or leave the host unbootable",
			"pool mypool: missing device 316502962686821739 (last seen as /dev/ada1p3) in mirror-0 is UNAVAIL: ZFS cannot open it (disk missing, unplugged, renamed or unreadable)",
		}},
		{"zpool-status-variant-raidz2-faulted-offline.txt", []string{
			"pool zroot: the pool is DEGRADED: it still works but has lost redundancy; one more failure can lose data or leave the host unbootable",
			"pool zroot: device gpt/zfs2 in raidz2-0 is FAULTED: ZFS stopped using it after too many errors or because its label or data is corrupt (zpool says: too many errors); it has counted 1229 read and 15 write errors",
			"pool zroot: device gpt/zfs3 in raidz2-0 has counted 3 checksum errors; check the disk (dmesg, smartctl), then reset the counters with 'zpool clear zroot'",
			"pool zroot: device gpt/zfs4 in raidz2-0 is OFFLINE: it was taken offline on purpose; 'zpool online' brings it back",
		}},
		{"zpool-status-variant-replacing-resilver.txt", []string{
			"pool zroot: the pool is DEGRADED: it still works but has lost redundancy; one more failure can lose data or leave the host unbootable",
			"pool zroot: missing device 7814413394837204422 (last seen as /dev/ada1p3/old) in replacing-1 is UNAVAIL: ZFS cannot open it (disk missing, unplugged, renamed or unreadable)",
			"pool zroot: a resilver is running (resilver in progress since Tue Nov 25 10:02:11 2025); the pool is not fully redundant until it finishes",
		}},
		{"zpool-status-variant-suspended-unavail-guid-errors.txt", []string{
			"pool backup: the pool is SUSPENDED: all I/O to it is suspended after device failures; fix the devices, then run 'zpool clear'",
			"pool backup: missing device 12996480212040523470 (last seen as /dev/da4) is UNAVAIL: ZFS cannot open it (disk missing, unplugged, renamed or unreadable)",
			"pool backup: ZFS found permanent errors in 2 files or objects that no redundant copy could repair; 'zpool status -v backup' lists them",
		}},
		// Cache and spare devices are not judged; a faulted member of a
		// spare group is.
		{"zpool-status-variant-sections-spare-in-use.txt", []string{
			"pool tank: the pool is DEGRADED: it still works but has lost redundancy; one more failure can lose data or leave the host unbootable",
			"pool tank: device da5 in spare-2 is FAULTED: ZFS stopped using it after too many errors or because its label or data is corrupt (zpool says: too many errors); it has counted 112 write errors",
		}},
		{"zpool-status-mirror-features-not-enabled-checkpoint.txt", nil},
		{"zpool-status-variant-eli-mirror-scrub-running.txt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pools, err := ParseStatus(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pools[0].Problems() {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestProblemsLogAndSpecialDevices(t *testing.T) {
	leaf := func(name, state string) *Vdev { return &Vdev{Name: name, Kind: KindLeaf, State: state} }
	p := Pool{
		Name: "tank", State: "ONLINE",
		Root:    &Vdev{Name: "tank", Kind: KindRoot, State: "ONLINE", Children: []*Vdev{leaf("da0", "ONLINE")}},
		Logs:    []*Vdev{leaf("nda0p2", "REMOVED")},
		Special: []*Vdev{{Name: "mirror-1", Kind: KindMirror, State: "DEGRADED", Children: []*Vdev{leaf("nda1p1", "ONLINE"), leaf("nda2p1", "ONLINE")}}},
		Cache:   []*Vdev{leaf("nda3p1", "UNAVAIL")},
		Spares:  []*Vdev{leaf("da9", "UNAVAIL")},
	}
	want := []Problem{
		{"mirror-1", "pool tank: mirror group mirror-1 is DEGRADED: one of its members is not working, so it has lost redundancy"},
		{"nda0p2", "pool tank: log device nda0p2 is REMOVED: the device was removed from the system while in use"},
	}
	if diff := cmp.Diff(want, p.Problems()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
