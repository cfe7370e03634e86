// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestSavedPlanIsRebuilt: apply never runs a saved plan as written. A
// blocked plan is not saved; a plan edited to drop its block is refused
// (it is not what zupgrade plans for the host with its options), and the
// host is left as it was.
func TestSavedPlanIsRebuilt(t *testing.T) {
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p5"})
	saved := filepath.Join(t.TempDir(), "plan.json")
	code, out := h.zupgrade(nil, "plan", "--to", "15.0-RELEASE", "-o", saved)
	if code != ExitBlocked || !strings.Contains(out, "not saved") {
		t.Fatalf("plan -o of a blocked plan: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(saved); err == nil {
		t.Fatal("plan -o saved a blocked plan")
	}

	// The same plan, printed with --json and edited: its block says ok.
	code, out = h.zupgrade(nil, "plan", "--to", "15.0-RELEASE", "--json")
	if code != ExitBlocked {
		t.Fatalf("plan --json: exit %d\n%s", code, out)
	}
	var p steps.Plan
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &p); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, out)
	}
	for i := range p.Checks {
		if p.Checks[i].Verdict == steps.Block {
			p.Checks[i].Verdict = steps.OK
		}
	}
	edited, _ := json.MarshalIndent(&p, "", "  ")
	if err := os.WriteFile(saved, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	before := h.summary()
	code, out = h.zupgrade(nil, "apply", saved)
	if code != ExitUsage || !strings.Contains(out, "is not the plan zupgrade makes for this host") {
		t.Fatalf("apply of an edited plan: exit %d\n%s", code, out)
	}
	if h.journal() != nil {
		t.Error("the edited plan started a run")
	}
	if after := h.summary(); after != before {
		t.Errorf("the edited plan changed the host:\n%s\nthen\n%s", before, after)
	}
}

// TestSavedPlanOtherStateDir: a plan saved with one state directory and
// applied with another runs with the applying run's state directory, to
// the end.
func TestSavedPlanOtherStateDir(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	saved := filepath.Join(t.TempDir(), "plan.json")
	applyDir := h.state
	h.state = filepath.Join(h.m.Root, "var/db/zupgrade-planned")
	code, out := h.zupgrade(nil, "plan", "--to", "14.2-RELEASE", "-o", saved)
	h.state = applyDir
	if code != 0 {
		t.Fatalf("plan -o: exit %d\n%s", code, out)
	}
	if data, err := os.ReadFile(saved); err != nil || !bytes.Contains(data, []byte("zupgrade-planned")) {
		t.Fatalf("the saved plan does not name its state directory: %v", err)
	}
	code, log := h.runUpgrade(nil, saved)
	h.assertDone(code, log)
	h.assertBootsEverywhere("14.2-RELEASE")
}
