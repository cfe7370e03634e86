// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestFeaturesOfFreeBSDsOpenZFS: a release knows the pool features its
// OpenZFS registers for FreeBSD and lets zpool use. edonr comes with
// 14.0: OpenZFS zfs-2.0.0 (13.0) registers it only off FreeBSD, and
// zfs-2.1.x (13.1 to 13.5) registers it with fi_zfs_mod_supported false
// on FreeBSD (module/zcommon/zfeature_common.c zfs_mod_supported_feature),
// which zpool get and zpool upgrade skip (cmd/zpool/zpool_main.c);
// compatibility.d/openzfs-2.1-freebsd lacks it and openzfs-2.2 has it.
// redaction_list_spill comes with 15.0: zfeature_common.c registers it
// from zfs-2.3.0 on, and FreeBSD 14.x ships 2.2.
func TestFeaturesOfFreeBSDsOpenZFS(t *testing.T) {
	for _, c := range []struct {
		feature, release string
		known            bool
	}{
		{"edonr", "13.0", false},
		{"edonr", "13.5", false},
		{"edonr", "14.0", true},
		{"redaction_list_spill", "14.3", false},
		{"redaction_list_spill", "15.0", true},
		{"draid", "13.1", true},
		{"draid", "13.0", false},
	} {
		if got := KnownTo(c.feature, MustRelease(c.release+"-RELEASE")); got != c.known {
			t.Errorf("KnownTo(%s, %s) = %v, want %v", c.feature, c.release, got, c.known)
		}
	}
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 1})
	if out := tm.must("zpool", "get", "-H", "-o", "property", "all", "zroot"); strings.Contains(out, "feature@edonr") || !strings.Contains(out, "feature@draid") {
		t.Errorf("zpool get all on 13.4 lists edonr, or not draid:\n%s", out)
	}
}
