// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/steps"
)

// TestPlanJSONGolden compares the whole JSON plan of example hosts with
// testdata/plan-NAME.json, as documents (go test -run TestPlanJSONGolden
// -update rewrites them; review the diff).
func TestPlanJSONGolden(t *testing.T) {
	for name, to := range map[string]string{
		"mirror-bios-uefi": "14.2-RELEASE",
		"legacy-8.2":       "9.0-RELEASE",
		"uefi-nda-mirror":  "15.0-RELEASE",
	} {
		t.Run(name, func(t *testing.T) {
			p := steps.Build(exampleFacts(t, name), steps.Options{To: to, Now: journalTime, StateDir: "/var/db/zupgrade"})
			// Facts have goldens of their own (inspect); the plan's part
			// is what it makes of them.
			p.Facts = facts.Facts{}
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "plan-"+name+".json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			var want, have any
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &have); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, have); diff != "" {
				t.Errorf("plan differs from %s (-golden +now; run with -update after checking it):\n%s", golden, diff)
			}
			if _, err := steps.ReadPlan(got); err != nil {
				t.Errorf("the plan does not read back: %v", err)
			}
		})
	}
}
