// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealZFSFeaturesOfTheRunningRelease: over a real OpenZFS newer than
// the running release's (the guest's 2.3 for 14.2's 2.2), zpool knows
// only the release's features: zpool get leaves out fast_dedup,
// large_microzap and redaction_list_spill (OpenZFS 2.3's, registered in
// module/zcommon/zfeature_common.c from zfs-2.3.0 on and in no zfs-2.2.x
// tag, the 2.2 that FreeBSD 14.x ships; compatibility.d/openzfs-2.2 lacks
// them too),
// zpool upgrade neither lists nor enables them on the real pool, and
// zpool set of one fails as on 14.2 without reaching the real pool.
func TestRealZFSFeaturesOfTheRunningRelease(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2})
	dir := fakeRealZFS(t)
	if err := tm.UseRealZFS(dir); err != nil {
		t.Fatal(err)
	}
	realState := func() string {
		data, _ := os.ReadFile(filepath.Join(dir, "features"))
		return string(data)
	}
	get := tm.must("zpool", "get", "-H", "-p", "all", "zroot")
	for _, f := range []string{"feature@fast_dedup", "feature@large_microzap", "feature@longname", "feature@redaction_list_spill"} {
		if strings.Contains(get, f) {
			t.Errorf("zpool get on 14.2 lists %s, which OpenZFS 2.2 does not know:\n%s", f, get)
		}
	}
	if !strings.Contains(get, "zroot\tfeature@blake3\tdisabled") || !strings.Contains(get, "zroot\tbootfs\tzroot/ROOT/default") {
		t.Errorf("zpool get on 14.2 lost the real pool's other lines:\n%s", get)
	}
	list := tm.must("zpool", "upgrade")
	if strings.Contains(list, "fast_dedup") || !strings.Contains(list, "      blake3\n") {
		t.Errorf("zpool upgrade on 14.2 does not list 14.2's missing features alone:\n%s", list)
	}
	if r := tm.run("zpool", "set", "feature@fast_dedup=enabled", "zroot"); r.code != 2 || !strings.Contains(r.err, "'feature@fast_dedup' is not a valid pool") {
		t.Errorf("zpool set feature@fast_dedup on 14.2: %v, want exit 2 and an invalid property", r)
	}
	if strings.Contains(realState(), "fast_dedup") {
		t.Errorf("zpool set feature@fast_dedup on 14.2 reached the real pool: %s", realState())
	}
	tm.must("zpool", "upgrade", "zroot")
	got := map[string]string{}
	for _, line := range strings.Split(realState(), "\n") {
		if n, v, ok := strings.Cut(line, " "); ok {
			got[n] = v
		}
	}
	for _, f := range []string{"blake3", "vdev_zaps_v2", "zilsaxattr", "edonr", "draid"} {
		if got[f] != "enabled" {
			t.Errorf("zpool upgrade on 14.2 left %s %q on the real pool, want enabled", f, got[f])
		}
	}
	for _, f := range []string{"fast_dedup", "large_microzap", "longname", "raidz_expansion", "redaction_list_spill"} {
		if got[f] != "" {
			t.Errorf("zpool upgrade on 14.2 made %s %s on the real pool; 14.2's OpenZFS 2.2 does not know it", f, got[f])
		}
	}
	if p := tm.model().pool("zroot"); p.Features["blake3"] != "enabled" || p.Features["fast_dedup"] != "" {
		t.Errorf("the model's pool after the upgrade: %v", p.Features)
	}
}

// TestRealZFSBootfsDecides: the boot environment that boots is the real
// pool's bootfs, read at the boot (zpool get), not the model's: after
// bectl activate the real pool names the new one and it boots; a bootfs
// set on the real pool behind the model's back (zpool set bootfs there)
// boots that one instead, as the loader reads the pool's bootfs
// (stand/libsa/zfs/zfsimpl.c zfs_get_root: the pool's bootfs property).
func TestRealZFSBootfsDecides(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2})
	dir := fakeRealZFS(t)
	if err := tm.UseRealZFS(dir); err != nil {
		t.Fatal(err)
	}
	tm.must("bectl", "create", "-r", "next")
	tm.must("bectl", "activate", "next")
	if data, _ := os.ReadFile(filepath.Join(dir, "bootfs")); string(data) != "zroot/ROOT/next" {
		t.Fatalf("bectl activate set the real pool's bootfs to %q", data)
	}
	tm.must("shutdown", "-r", "now")
	if rep := tm.mustBoot(BootOptions{NoHooks: true}); rep.BE != "zroot/ROOT/next" {
		t.Errorf("booted %s, the real pool's bootfs is zroot/ROOT/next", rep.BE)
	}
	os.WriteFile(filepath.Join(dir, "bootfs"), []byte("zroot/ROOT/default"), 0o644)
	tm.must("shutdown", "-r", "now")
	if rep := tm.mustBoot(BootOptions{NoHooks: true}); rep.BE != "zroot/ROOT/default" {
		t.Errorf("booted %s, the real pool's bootfs is zroot/ROOT/default", rep.BE)
	}
}
