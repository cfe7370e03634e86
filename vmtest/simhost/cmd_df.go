// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
)

// fatCluster is the allocation unit the simulated FAT file systems count
// file sizes in.
const fatCluster = 4096

// cmdDf is df(1) with -k: the space of the file system holding each path
// argument. A path on a mounted ESP reports the FAT file system (the
// partition's size, the files on it rounded to whole clusters); any other
// path reports the root dataset with its pool's free space.
func cmdDf(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "k")
	if err != nil || !has(opts, 'k') {
		return inv.unsupported("df without -k")
	}
	if len(args) == 0 {
		return inv.unsupported("df without a path")
	}
	inv.out("Filesystem         1024-blocks    Used    Avail Capacity  Mounted on\n")
	code := 0
	for _, a := range args {
		v := inv.resolve(a)
		var dev, point string
		var size, used int64
		switch {
		case v.isFAT():
			d := inv.model.disk(v.mount.Disk)
			dev, point = v.mount.Device, v.mount.Point
			size = v.fatPart.Size * int64(d.SectorSize)
			for _, f := range v.fat.Files {
				used += (int64(len(f.Data)) + fatCluster - 1) / fatCluster * fatCluster
			}
		case v.real != "":
			p := inv.model.pool(strings.SplitN(inv.model.RootFiles, "/", 2)[0])
			if p == nil {
				inv.errf("df: %s: No such file or directory\n", a)
				code = 1
				continue
			}
			dev, point = inv.model.RootFiles, "/"
			if ds, at := inv.datasetOf(v.mpath); ds != "" {
				dev, point = ds, at
			}
			size, used = p.Size, p.Alloc
		default:
			inv.errf("df: %s: No such file or directory\n", a)
			code = 1
			continue
		}
		avail := size - used
		if avail < 0 {
			avail = 0
		}
		pct := int64(0)
		if size > 0 {
			pct = (used*100 + size - 1) / size
		}
		inv.out("%-18s %11d %7d %8d %7d%%    %s\n", dev, size/1024, used/1024, avail/1024, pct, point)
	}
	return code
}

// datasetOf is the file system df names for a path of the machine: the
// one mounted deepest above it (bin/df/df.c prints statfs(2)'s
// f_mntfromname and f_mntonname, which for ZFS are the dataset and its
// mount point): a file system outside the boot environments (the pool's
// root dataset at /zroot, /var/log, /tmp, ...), a mounted boot
// environment; "" for the root file system.
func (inv *Invocation) datasetOf(mp string) (dataset, point string) {
	under := func(at string) bool { return mp == at || strings.HasPrefix(mp, strings.TrimSuffix(at, "/")+"/") }
	for _, p := range inv.model.Pools {
		for _, d := range p.Datasets {
			at := d.Mounted
			if at == "" && !d.Unmounted && d.Canmount == "on" && d.Mountpoint != "/" && strings.HasPrefix(d.Mountpoint, "/") && !strings.HasPrefix(d.Name, beRoot(p)+"/") {
				at = d.Mountpoint
			}
			if at != "" && under(at) && len(at) > len(point) {
				dataset, point = d.Name, at
			}
		}
	}
	return dataset, point
}
