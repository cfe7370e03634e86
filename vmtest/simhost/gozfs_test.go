// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"testing"

	zfs "github.com/mistifyio/go-zfs/v4"
)

// TestGoZFSReadsSimulatedPools points go-zfs, a parser of zpool and zfs
// output written by others, at the simulated host: it must read the pools
// and datasets as it reads a real host's. This is the seam where a real
// OpenZFS backend (the VM harness) and the simulated one must agree.
func TestGoZFSReadsSimulatedPools(t *testing.T) {
	m, err := New(t.TempDir(), Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 3}, simhostBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	// go-zfs runs zpool and zfs from PATH: make that the machine's.
	t.Setenv("PATH", m.MapPATH(loginPATH))
	t.Setenv(RootEnv, m.Root)

	pools, err := zfs.ListZpools()
	if err != nil {
		t.Fatalf("ListZpools: %v", err)
	}
	if len(pools) != 1 {
		t.Fatalf("%d pools, want 1", len(pools))
	}
	p := pools[0]
	if p.Name != "zroot" || p.Health != "ONLINE" || p.Size == 0 || p.Free == 0 || p.Free > p.Size || p.Allocated+p.Free > p.Size+p.Size/100 {
		t.Errorf("pool as go-zfs reads it: %+v", p)
	}
	fss, err := zfs.Filesystems("zroot")
	if err != nil {
		t.Fatalf("Filesystems: %v", err)
	}
	found := false
	for _, fs := range fss {
		if fs.Name == "zroot/ROOT/default" && fs.Mountpoint == "/" {
			found = true
		}
	}
	if !found {
		t.Errorf("no zroot/ROOT/default mounted on / among %d file systems", len(fss))
	}
}
