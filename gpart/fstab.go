// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"slices"
	"strings"
)

// FstabLine is one file system line of /etc/fstab.
type FstabLine struct {
	// Number is the line's number in the file, Text the line as written.
	Number int
	Text   string
	// Device, MountPoint, FSType and Options are its first four fields.
	Device, MountPoint, FSType string
	Options                    []string
}

// Has reports whether the line carries the mount option opt (e.g. failok,
// noauto).
func (l FstabLine) Has(opt string) bool { return slices.Contains(l.Options, opt) }

// ParseFstab reads /etc/fstab: blank lines and comments are skipped, and
// lines with fewer than four fields (which getfsent(3) rejects) too.
func ParseFstab(text string) []FstabLine {
	var out []FstabLine
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		out = append(out, FstabLine{Number: i + 1, Text: line, Device: f[0], MountPoint: f[1], FSType: f[2], Options: strings.Split(f[3], ",")})
	}
	return out
}
