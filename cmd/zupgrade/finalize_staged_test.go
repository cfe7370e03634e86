// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"
)

// TestFinalizeAfterStagedApply: the staged apply leaves the pool as it
// was and the old boot environment beside the new one; finalize --keep 1
// then enables the features, destroys the old boot environment, and every
// disk boots the new one.
func TestFinalizeAfterStagedApply(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newStagedHost(t)
	code, log := h.runUpgrade(nil, "--to", to)
	h.assertDone(code, log)
	before := h.features("zroot")
	if code, out := h.zupgrade(nil, "finalize", "--keep", "1"); code != 0 {
		t.Fatalf("finalize after the staged apply: exit %d\n%s", code, out)
	}
	if mapsEqual(h.features("zroot"), before) {
		t.Errorf("finalize enabled no feature: %v", before)
	}
	if list := h.sh("bectl", "list", "-H"); strings.Count(list, "\n") != 1 || !strings.HasPrefix(list, to+"\tNR\t") {
		t.Errorf("bectl list -H after finalize --keep 1:\n%s", list)
	}
	h.assertBootsEverywhere(to)
}

// TestStatusAfterStagedUnhealthyTrial: back in the old boot environment
// after a trial whose health check failed, status begins with why, and
// finalize is refused.
func TestStatusAfterStagedUnhealthyTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newStagedHost(t)
	if code, log := h.runUpgrade(nil, "--to", to, "--health-cmd", "cat /zroot/health-ok", "--auto-revert"); code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	code, out := h.zupgrade(nil, "status")
	if first, _, _ := strings.Cut(out, "\n"); code != 0 || !strings.HasPrefix(first, "trial of "+to+" failed: ") || !strings.Contains(first, "cat /zroot/health-ok") {
		t.Errorf("status in the old boot environment: exit %d\n%s", code, out)
	}
	if code, out := h.zupgrade(nil, "finalize", "--yes"); code != ExitUsage || !strings.Contains(out, "is pending") {
		t.Errorf("finalize after the failed trial: exit %d\n%s", code, out)
	}
}
