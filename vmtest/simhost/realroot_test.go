// SPDX-License-Identifier: BSD-2-Clause

package simhost

import "testing"

// TestOutsideBootEnvironment: with bsdinstall's datasets, the pool's
// root dataset (/zroot, where a staged run keeps its journal) and the
// datasets outside the boot environment (/var/log, /tmp) are not the
// boot environment's, /var/db/zupgrade and /boot are: with a real root,
// the first stay on the machine's disk, the others are in the real
// dataset.
func TestOutsideBootEnvironment(t *testing.T) {
	model := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2}).model()
	for p, want := range map[string]bool{
		"/zroot/zupgrade":   true,
		"/var/log/zupgrade": true,
		"/tmp":              true,
		"/.simhost":         true,
		"/var/db/zupgrade":  false,
		"/boot/kernel":      false,
		"/zrootx":           false,
		"/":                 false,
	} {
		if got := model.OutsideBootEnvironment(p); got != want {
			t.Errorf("OutsideBootEnvironment(%s) = %v, want %v", p, got, want)
		}
	}
}

// TestUnescapeMountinfo: mountinfo writes a space, tab, newline and
// backslash of a path as octal escapes (fs/proc_namespace.c
// show_mountinfo, mangle " \t\n\\").
func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/disk/root`:        "/disk/root",
		`/disk/a\040b`:      "/disk/a b",
		`/disk/a\134b\011c`: "/disk/a\\b\tc",
		`/disk/trailing\04`: `/disk/trailing\04`,
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
