// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"testing"

	"github.com/zupgrade/zupgrade/facts"
)

// TestCatalogs: every step of both catalogs is found by its ID, plans a
// step of that ID, and is a checkpoint exactly when its plan says so;
// checkpoints are never run blindly again, every other step is, and a
// checkpoint refuses to be run as a plain step.
func TestCatalogs(t *testing.T) {
	f := &facts.Facts{Release: facts.Release{Running: "14.1-RELEASE", Kernel: "14.1-RELEASE", Userland: "14.1-RELEASE"}}
	for name, c := range map[string]struct {
		catalog []stepDef
		to      string
		n       int
	}{"upgrade": {upgradeCatalog, "14.2-RELEASE", 13}, "patch": {patchCatalog, "", 7}} {
		p := Build(f, Options{To: c.to})
		if len(p.Steps) != c.n || len(c.catalog) != c.n {
			t.Errorf("%s: %d steps planned, %d in the catalog, want %d", name, len(p.Steps), len(c.catalog), c.n)
		}
		seen := map[string]bool{}
		for i, d := range c.catalog {
			if seen[d.id()] {
				t.Errorf("%s: step %s twice", name, d.id())
			}
			seen[d.id()] = true
			if got, ok := stepByID(d.id()); !ok || got != d {
				t.Errorf("%s: stepByID(%s) = %v, %v", name, d.id(), got, ok)
			}
			if p.Steps[i].ID != d.id() {
				t.Errorf("%s: step %d plans %s, want %s", name, i+1, p.Steps[i].ID, d.id())
			}
			cp, isCheckpoint := d.(checkpointDef)
			if isCheckpoint != p.Steps[i].Checkpoint {
				t.Errorf("%s: %s is a checkpoint: %v, its plan says %v", name, d.id(), isCheckpoint, p.Steps[i].Checkpoint)
			}
			if d.rerunnable() == isCheckpoint {
				t.Errorf("%s: %s rerunnable %v", name, d.id(), d.rerunnable())
			}
			if isCheckpoint {
				if err := cp.run(&stepContext{}, context.Background()); err == nil {
					t.Errorf("%s: checkpoint %s ran as a plain step", name, d.id())
				}
			}
		}
	}
	if _, ok := stepByID("format-disks"); ok {
		t.Error("stepByID found a step that does not exist")
	}
}
