// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestPackagedBinaryKept: the package installed /usr/local/sbin/zupgrade,
// and the admin runs another zupgrade from /tmp. The boot hook runs
// /usr/local/sbin/zupgrade, a file of the package's that zupgrade never
// overwrites: apply refuses before it changes the host, saying to run the
// packaged zupgrade, and the package's file stays as it was.
func TestPackagedBinaryKept(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHostWith(t, patchSpec, "/tmp/zupgrade")
	running, err := os.ReadFile(h.exe)
	if err != nil {
		t.Fatal(err)
	}
	// Another build of zupgrade: the same program with bytes after it, so
	// that the files' checksums differ.
	packaged := append(bytes.Clone(running), "\x00another zupgrade build\x00"...)
	installPortWith(t, h, packaged)

	code, out := h.zupgrade(nil, "apply", "--no-reboot")
	if code != ExitFailed {
		t.Fatalf("apply from /tmp over a packaged zupgrade: exit %d, want %d:\n%s", code, ExitFailed, out)
	}
	for _, want := range []string{"/usr/local/sbin/zupgrade belongs to the package zupgrade-0.1.0", "/usr/local/sbin/zupgrade apply"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply's message lacks %q:\n%s", want, out)
		}
	}
	if got, err := os.ReadFile(h.m.HostPath("/usr/local/sbin/zupgrade")); err != nil || !bytes.Equal(got, packaged) {
		t.Errorf("the package's /usr/local/sbin/zupgrade was overwritten (%v)", err)
	}
	// The refused run leaves nothing behind: no journal of a run that
	// would be refused again at every apply.
	if j := h.journal(); j != nil {
		t.Errorf("the refused run left its journal, %s: %s", j.Status, j.Message)
	}
	if code, out := h.zupgrade(nil, "status"); code != 0 || !strings.Contains(out, "no zupgrade run") {
		t.Errorf("status after the refused run: exit %d\n%s", code, out)
	}
	if got := h.sh("freebsd-version", "-k"); got != "14.3-RELEASE-p5\n" {
		t.Errorf("freebsd-version -k after the refused run: %q", got)
	}
}
