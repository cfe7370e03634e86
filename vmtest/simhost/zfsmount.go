// SPDX-License-Identifier: BSD-2-Clause

package simhost

import "strings"

// zfsMount is zfs mount DATASET and zfs umount (unmount) DATASET for a
// file system outside the boot environments that mounts at its own
// mountpoint (the pool's root dataset at /zroot, zroot/var/log, ...;
// boot environments are bectl's): unmounted, df no longer names it for
// its mount point (Dataset.Unmounted). The messages are
// cmd/zfs/zfs_main.c's: share_mount_one "filesystem already mounted"
// for an explicit mount of a mounted one, unshare_unmount "not currently
// mounted" for an unmount of an unmounted one. The files stay where they
// are (the machine has one tree), and the next boot mounts it again
// (unmountAll).
func zfsMount(inv *Invocation, sub string, args []string) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return inv.unsupported("zfs " + sub + " other than of one dataset")
	}
	p, d := inv.model.dataset(args[0])
	if d == nil {
		inv.errf("cannot open '%s': dataset does not exist\n", args[0])
		return 1
	}
	if d.Name == beRoot(p) || strings.HasPrefix(d.Name, beRoot(p)+"/") || d.Canmount != "on" || !strings.HasPrefix(d.Mountpoint, "/") || d.Mountpoint == "/" {
		return inv.unsupported("zfs " + sub + " of " + d.Name + " (only datasets outside the boot environments with canmount=on and a path mountpoint)")
	}
	if sub == "mount" {
		if !d.Unmounted {
			inv.errf("cannot mount '%s': filesystem already mounted\n", d.Name)
			return 1
		}
		d.Unmounted = false
		return 0
	}
	if d.Unmounted {
		inv.errf("cannot unmount '%s': not currently mounted\n", d.Name)
		return 1
	}
	d.Unmounted = true
	return 0
}
