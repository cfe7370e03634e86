// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"slices"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// Mount is one mounted file system as `mount -p` prints it, in fstab(5)
// format.
type Mount struct {
	// Device is what is mounted: "/dev/gpt/efiboot0", "zroot/ROOT/default",
	// "devfs", ...
	Device string
	// MountPoint is where it is mounted, e.g. "/boot/efi".
	MountPoint string
	// FSType is the file system type, e.g. "zfs", "msdosfs", "ufs".
	FSType string
	// Options are the mount options, e.g. ["rw", "noatime"].
	Options []string
	// Dump and Pass are the fstab dump frequency and fsck pass number.
	Dump, Pass int
}

// Mounts are the mounted file systems in mount order.
type Mounts []Mount

// ParseMountP reads the output of `mount -p`: one file system per line,
// six fields separated by tabs or blanks (mount pads with tabs, or a single
// blank after long names). A line with another number of fields (such as a
// mount point holding a blank, which mount -p does not escape) returns a
// *host.ParseError rather than a guess.
func ParseMountP(out string) (Mounts, error) {
	const command = "mount -p"
	var mounts Mounts
	for i, raw := range strings.Split(out, "\n") {
		f := strings.Fields(raw)
		if len(f) == 0 {
			continue
		}
		if len(f) != 6 {
			return nil, &host.ParseError{Command: command, Line: i + 1, Text: raw,
				Reason: "expected six fields: device, mount point, type, options, dump, pass"}
		}
		dump, err1 := strconv.Atoi(f[4])
		pass, err2 := strconv.Atoi(f[5])
		if err1 != nil || err2 != nil || dump < 0 || pass < 0 {
			return nil, &host.ParseError{Command: command, Line: i + 1, Text: raw, Reason: "dump and pass are not numbers"}
		}
		mounts = append(mounts, Mount{
			Device: f[0], MountPoint: f[1], FSType: f[2],
			Options: strings.Split(f[3], ","), Dump: dump, Pass: pass,
		})
	}
	return mounts, nil
}

// MSDOS returns the FAT (msdosfs) mounts: the candidates for a mounted ESP.
func (ms Mounts) MSDOS() Mounts {
	var out Mounts
	for _, m := range ms {
		if m.FSType == "msdosfs" {
			out = append(out, m)
		}
	}
	return out
}

// OfProvider returns the mount of provider name (e.g. the ESP "ada0p1"),
// whichever of its device nodes was mounted: /dev/ada0p1, or a label such
// as /dev/gpt/efiboot0 or /dev/msdosfs/EFISYS that l knows of.
func (ms Mounts) OfProvider(l *Layout, name string) (Mount, bool) {
	paths := l.DevicePaths(strings.TrimPrefix(name, "/dev/"))
	for _, m := range ms {
		if slices.Contains(paths, m.Device) {
			return m, true
		}
	}
	return Mount{}, false
}
