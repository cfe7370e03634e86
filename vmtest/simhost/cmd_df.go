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
