// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestRealZFSStatusOfTheRunningRelease: over a real OpenZFS newer than the
// running release's, zpool status says "Some supported and requested
// features are not enabled" only while a feature the release's OpenZFS
// knows (and the compatibility property requests) is disabled, as that
// release's zpool would (lib/libzfs/libzfs_status.c check_status walks
// its own spa_feature_table): once zpool upgrade enabled 14.2's features,
// the real 2.3 zpool's complaint about fast_dedup and the others is not
// printed, and the rest of its output is.
func TestRealZFSStatusOfTheRunningRelease(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2})
	if err := tm.UseRealZFS(fakeRealZFS(t)); err != nil {
		t.Fatal(err)
	}
	before := tm.must("zpool", "status")
	if !strings.Contains(before, "\n"+fakeFeatDisabled+"config:\n") {
		t.Errorf("zpool status on 14.2 with blake3 disabled does not say features are not enabled:\n%s", before)
	}
	tm.must("zpool", "upgrade", "zroot")
	after := tm.must("zpool", "status")
	if strings.Contains(after, "status:") || strings.Contains(after, "action:") {
		t.Errorf("zpool status on 14.2 after zpool upgrade still complains about features 14.2 does not know:\n%s", after)
	}
	if !strings.HasPrefix(after, "  pool: zroot\n state: ONLINE\nconfig:\n") || !strings.Contains(after, "\t    ada1p4  ONLINE       0     0     0\n\nerrors: No known data errors\n") {
		t.Errorf("zpool status on 14.2 lost the real zpool's other lines:\n%s", after)
	}
}

// TestZpoolStatusWithinCompatibility: the model's zpool status follows
// check_status too: a 14.2 pool whose compatibility property requests
// OpenZFS 2.1's features, all enabled, has nothing to report, although
// 14.2 knows more; zpool upgrade has nothing to enable there either.
func TestZpoolStatusWithinCompatibility(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", PoolRelease: "13.1-RELEASE", Compatibility: "openzfs-2.1-freebsd"})
	if out := tm.must("zpool", "status", "zroot"); strings.Contains(out, "status:") || strings.Contains(out, "action:") {
		t.Errorf("zpool status of a pool with every feature its compatibility requests:\n%s", out)
	}
	if out := tm.must("zpool", "upgrade", "zroot"); !strings.Contains(out, "already has all supported and requested features enabled") {
		t.Errorf("zpool upgrade: %s", out)
	}
}
