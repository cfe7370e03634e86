// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestDfNamesTheDataset: df names the file system a path is on: the
// pool's root dataset at /zroot and /var/log are outside the boot
// environment, /var/db is in it, and a mounted boot environment is its
// own.
func TestDfNamesTheDataset(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE"})
	tm.mustOK("", "mkdir", "-p", "/tmp/be")
	tm.mustOK("", "bectl", "create", "-r", "other")
	tm.mustOK("", "bectl", "mount", "other", "/tmp/be")
	for _, c := range []struct{ path, fs, point string }{
		{"/zroot", "zroot", "/zroot"},
		{"/var/log", "zroot/var/log", "/var/log"},
		{"/var/db", "zroot/ROOT/default", "/"},
		{"/tmp/be/var", "zroot/ROOT/other", "/tmp/be"},
	} {
		lines := strings.Split(strings.TrimSpace(tm.must("df", "-k", c.path)), "\n")
		f := strings.Fields(lines[len(lines)-1])
		if len(f) != 6 || f[0] != c.fs || f[5] != c.point {
			t.Errorf("df -k %s: %q, want %s on %s", c.path, lines[len(lines)-1], c.fs, c.point)
		}
	}
}
