// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"
)

// TestDefaultStateFallsBackWhenPoolRootUnmounted: the pool's root dataset
// has everything it needs to hold the journal (mountpoint=/zroot,
// canmount=on, readonly=off) but is not mounted (zfs umount zroot), so df
// -k /zroot names the root boot environment: plan without --state-dir
// upgrades in place, keeps the journal in /var/db/zupgrade, and its
// Method line names the file system df found and zfs mount zroot as the
// fix. Mounted again, plan stages.
func TestDefaultStateFallsBackWhenPoolRootUnmounted(t *testing.T) {
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newDefaultStateHost(t)
	method := func() string {
		t.Helper()
		code, out := h.zupgrade(nil, "plan", "--to", to)
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "Method: ") {
				// The host's root directory is named after the test.
				return strings.ReplaceAll(l, h.m.Root, "")
			}
		}
		t.Fatalf("plan --to %s: exit %d, no Method line:\n%s", to, code, out)
		return ""
	}
	h.sh("zfs", "umount", "zroot")
	got := method()
	for _, want := range []string{"Method: in place", "/var/db/zupgrade", "is not mounted at /zroot", "(df -k /zroot names zroot/ROOT/default)", "zfs mount zroot", "--state-dir"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan with zroot unmounted: the Method line lacks %q:\n%s", want, got)
		}
	}
	h.sh("zfs", "mount", "zroot")
	if got := method(); !strings.HasPrefix(got, "Method: staged in boot environment "+to) || !strings.Contains(got, "/zroot/zupgrade") {
		t.Errorf("plan with zroot mounted again: %s", got)
	}
}
