// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestPlanAtTarget: plan --to the release the host runs already agrees
// with apply: nothing to do, exit 0, in text and in JSON (a plan document
// with no checks and no steps whose nothing_to_do says why), and -o saves
// no plan to apply.
func TestPlanAtTarget(t *testing.T) {
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.2-RELEASE-p1"})
	const why = "nothing to do: the host runs 14.2-RELEASE-p1 already"

	code, out := h.zupgradeHere(nil, "plan", "--to", "14.2-RELEASE")
	if code != ExitOK || !strings.Contains(out, why) || strings.Contains(out, "BLOCKED") {
		t.Errorf("plan --to 14.2-RELEASE on 14.2-RELEASE-p1: exit %d, want 0 saying %q:\n%s", code, why, out)
	}

	code, out = h.zupgradeHere(nil, "plan", "--to", "14.2-RELEASE", "--json")
	if code != ExitOK {
		t.Errorf("plan --json: exit %d, want 0:\n%s", code, out)
	}
	var doc struct {
		Format      int               `json:"format"`
		Mode        string            `json:"mode"`
		From        string            `json:"from"`
		To          string            `json:"to"`
		Checks      []json.RawMessage `json:"checks"`
		Steps       []json.RawMessage `json:"steps"`
		NothingToDo string            `json:"nothing_to_do"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("plan --json is not one JSON document: %v\n%s", err, out)
	}
	if doc.Format != steps.PlanFormat || doc.Mode != "upgrade" || doc.From != "14.2-RELEASE-p1" || doc.To != "14.2-RELEASE" ||
		len(doc.Checks) != 0 || len(doc.Steps) != 0 || !strings.HasPrefix("nothing to do: "+doc.NothingToDo, why) {
		t.Errorf("plan --json at the target: %+v\n%s", doc, out)
	}

	saved := filepath.Join(t.TempDir(), "plan.json")
	code, out = h.zupgradeHere(nil, "plan", "--to", "14.2-RELEASE", "-o", saved)
	if code != ExitOK || !strings.Contains(out, why) {
		t.Errorf("plan -o at the target: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(saved); err == nil {
		t.Errorf("plan -o saved a plan with nothing to do")
	}

	// apply --json says it as a note event, never as a bare line.
	code, out = h.zupgradeHere(nil, "apply", "--to", "14.2-RELEASE", "--json")
	var notes []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct{ Type, Text string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("apply --json printed %q, no JSON event: %v", line, err)
		}
		if ev.Type == "note" {
			notes = append(notes, ev.Text)
		}
	}
	if code != ExitOK || len(notes) != 1 || !strings.HasPrefix(notes[0], why) {
		t.Errorf("apply --json at the target: exit %d, notes %q:\n%s", code, notes, out)
	}
	if j := h.journal(); j != nil {
		t.Errorf("plan or apply left a run: %s", j.Status)
	}
}
