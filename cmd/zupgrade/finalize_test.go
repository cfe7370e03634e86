// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestFinalizeAsksOnTerminal: on a terminal finalize shows its plan and
// asks; Enter changes nothing, y finalizes.
func TestFinalizeAsksOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("a run on a simulated host; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "15.0-RELEASE", PoolRelease: "14.3-RELEASE"})
	before := h.features("zroot")
	answer := func(a string) func(string) string {
		asked := false
		return func(screen string) string {
			if !asked && strings.Contains(screen, "[y/N] ") {
				asked = true
				return a
			}
			return ""
		}
	}
	code, out := h.onTerminal(answer("\n"), "finalize")
	if code != ExitFailed || !strings.Contains(out, "Plan: finalize 15.0-RELEASE") || !strings.Contains(out, "Finalize? The old boot environments will no longer boot.") {
		t.Fatalf("finalize on a terminal, answered Enter: exit %d:\n%s", code, out)
	}
	if h.journal() != nil || !mapsEqual(h.features("zroot"), before) {
		t.Fatalf("a declined finalize changed the host")
	}
	code, out = h.onTerminal(answer("y\n"), "finalize")
	if j := h.journal(); code != 0 || j == nil || j.Status != steps.StatusDone {
		t.Fatalf("finalize on a terminal, answered y: exit %d:\n%s", code, out)
	}
	if after := h.features("zroot"); mapsEqual(after, before) {
		t.Errorf("finalize enabled no feature: %v", after)
	}
	if code, out := h.zupgrade(nil, "rollback", "--yes", "--no-reboot"); code != ExitFailed || !strings.Contains(out, "finalize, which is one-way") {
		t.Errorf("rollback after finalize: exit %d:\n%s", code, out)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestStatusAfterFailedTrial: in the old boot environment, status begins
// with the staged run's "trial of BE failed: WHY"; finalize is refused
// while that run is pending, and blocked once it is rolled back (the new
// boot environment was never committed).
func TestStatusAfterFailedTrial(t *testing.T) {
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p3"})
	plan := &steps.Plan{Format: steps.PlanFormat, Mode: "upgrade", From: "14.3-RELEASE-p3", To: "15.0-RELEASE",
		Steps: []steps.Step{{ID: "trial-health", Title: "Health checks of the trial boot"}, {ID: steps.StepCommitBootEnv, Title: "Activate the new boot environment for good"}}}
	j := steps.NewJournal(plan, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	const why = "trial of 15.0-RELEASE failed: service sshd is not running"
	j.Status, j.Message = steps.StatusFailed, why
	store := steps.Store{Dir: h.state}
	if err := os.MkdirAll(h.state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(j); err != nil {
		t.Fatal(err)
	}
	code, out := h.zupgrade(nil, "status")
	if code != 0 || !strings.HasPrefix(out, why+"\n") || strings.Count(out, why) != 1 {
		t.Errorf("status after a failed trial: exit %d:\n%s\nwant it to begin with %q, once", code, out, why)
	}
	if code, out := h.zupgrade(nil, "status", "--json"); code != 0 || !strings.Contains(out, `"trial_failure": "`+why+`"`) {
		t.Errorf("status --json after a failed trial: exit %d:\n%s", code, out)
	}
	if code, out := h.zupgrade(nil, "finalize", "--yes"); code != ExitUsage || !strings.Contains(out, "is pending") {
		t.Errorf("finalize with the staged run pending: exit %d:\n%s", code, out)
	}
	j.Status = steps.StatusRolledBack
	if err := store.Save(j); err != nil {
		t.Fatal(err)
	}
	if code, out := h.zupgrade(nil, "finalize", "--dry-run"); code != ExitBlocked || !strings.Contains(out, "has not committed its new boot environment") {
		t.Errorf("finalize --dry-run after the trial failed: exit %d:\n%s", code, out)
	}
}

// TestStagedPlanShowsFinalize: a staged plan ends with finalize as a
// later, separate stage and its steps; an in-place plan, which upgrades
// the pool itself, does not.
func TestStagedPlanShowsFinalize(t *testing.T) {
	h := newStagedHost(t)
	code, out := h.zupgrade(nil, "plan", "--to", "15.0-RELEASE")
	if code != 0 || !strings.Contains(out, "\nLater, as a separate stage once the new boot environment is committed: zupgrade finalize") || !strings.Contains(out, "  - Upgrade pool features (one-way)\n") {
		t.Errorf("the staged plan does not show finalize after its steps: exit %d\n%s", code, out)
	}
	if _, out := h.zupgrade(nil, "plan", "--to", "15.0-RELEASE", "--in-place"); strings.Contains(out, "zupgrade finalize") {
		t.Errorf("the in-place plan shows finalize:\n%s", out)
	}
}
