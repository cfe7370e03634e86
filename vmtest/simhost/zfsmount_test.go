// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestZfsUmountPoolRoot: zfs umount of the pool's root dataset leaves
// df -k /zroot naming the root file system, a second umount fails as
// zfs_main.c's unshare_unmount does, zfs mount brings it back (and a
// second mount fails), and a reboot mounts an unmounted one again, as
// rc.d/zfs's zfs mount -va does.
func TestZfsUmountPoolRoot(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE"})
	df := func() string {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(tm.must("df", "-k", "/zroot")), "\n")
		f := strings.Fields(lines[len(lines)-1])
		return f[0] + " on " + f[len(f)-1]
	}
	if got := df(); got != "zroot on /zroot" {
		t.Fatalf("df -k /zroot at first: %s", got)
	}
	tm.mustOK("", "zfs", "umount", "zroot")
	if got := df(); got != "zroot/ROOT/default on /" {
		t.Errorf("df -k /zroot after zfs umount zroot: %s", got)
	}
	if r := tm.run("zfs", "unmount", "zroot"); r.code != 1 || r.err != "cannot unmount 'zroot': not currently mounted\n" {
		t.Errorf("a second zfs unmount: %v", r)
	}
	tm.mustOK("", "zfs", "mount", "zroot")
	if got := df(); got != "zroot on /zroot" {
		t.Errorf("df -k /zroot after zfs mount zroot: %s", got)
	}
	if r := tm.run("zfs", "mount", "zroot"); r.code != 1 || r.err != "cannot mount 'zroot': filesystem already mounted\n" {
		t.Errorf("a second zfs mount: %v", r)
	}
	tm.mustOK("", "zfs", "umount", "zroot")
	tm.must("shutdown", "-r", "now")
	tm.mustBoot(BootOptions{NoHooks: true})
	if got := df(); got != "zroot on /zroot" {
		t.Errorf("df -k /zroot after a reboot: %s", got)
	}
}
