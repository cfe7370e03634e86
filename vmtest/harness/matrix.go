// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/zupgrade/zupgrade/steps"
)

// Matrix is a rule that expands one scenario into a cell per step of the
// first run's plan: the cell cuts the power (or kills zupgrade) at the
// step's crash point Point. Steps the plan skips are left out; a step
// that runs after the plan's Nth reboot checkpoint is cut in the run the
// boot hook resumes at boot N.
type Matrix struct {
	// Steps is "every" (every step the plan runs) or a list of step IDs.
	Steps json.RawMessage `json:"steps"`
	// Point is before-start, after-started or after-run.
	Point string `json:"point"`
	// Kind is power-cut (the default) or sigkill.
	Kind string `json:"kind,omitempty"`
}

// stepIDs are the matrix's steps: nil for every step.
func (m *Matrix) stepIDs() ([]string, error) {
	var every string
	if json.Unmarshal(m.Steps, &every) == nil {
		if every != "every" {
			return nil, fmt.Errorf("matrix.steps %q: want \"every\" or a list of step IDs", every)
		}
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal(m.Steps, &ids); err != nil || len(ids) == 0 {
		return nil, fmt.Errorf("matrix.steps: want \"every\" or a list of step IDs")
	}
	return ids, nil
}

func (m *Matrix) check(sc *Scenario) error {
	if _, err := m.stepIDs(); err != nil {
		return err
	}
	if !pointPattern.MatchString("step:" + m.Point) {
		return fmt.Errorf("matrix.point %q: want before-start, after-started or after-run", m.Point)
	}
	switch m.Kind {
	case "", KindPowerCut, KindSIGKILL:
	default:
		return fmt.Errorf("matrix.kind %q: want power-cut or sigkill", m.Kind)
	}
	if len(sc.Faults) > 0 {
		return fmt.Errorf("a matrix scenario takes no faults of its own: the matrix makes one per cell")
	}
	if len(sc.Runs) < 2 {
		return fmt.Errorf("a matrix scenario needs a second run (apply, unless_done) to finish what a cut stopped")
	}
	return nil
}

// planStep is a step of the plan, as the matrix needs it.
type planStep struct {
	ID         string `json:"id"`
	Checkpoint bool   `json:"checkpoint"`
	Skip       string `json:"skip"`
}

// Expand replaces every matrix scenario by its cells, named
// SCENARIO--STEP: the steps come from a reference run of the scenario
// without a fault, in process in a directory under dir. A step the plan
// skips has no cell; one the reference run found done already has a cell
// that is skipped, saying so.
func Expand(ctx context.Context, scs []*Scenario, bins *Binaries, dir string) ([]*Scenario, error) {
	var out []*Scenario
	for _, sc := range scs {
		if sc.Matrix == nil {
			out = append(out, sc)
			continue
		}
		plan, err := referenceSteps(ctx, sc, bins, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: the matrix's reference run: %w", sc.Name, err)
		}
		cells, err := sc.expand(plan)
		if err != nil {
			return nil, err
		}
		out = append(out, cells...)
	}
	return out, nil
}

// expand makes the cells from the plan's steps.
func (sc *Scenario) expand(plan []planStep) ([]*Scenario, error) {
	m := sc.Matrix
	want, _ := m.stepIDs()
	kind := m.Kind
	if kind == "" {
		kind = KindPowerCut
	}
	var cells []*Scenario
	boot := 0
	found := map[string]bool{}
	for _, st := range plan {
		planned := st.Skip == "" || strings.HasPrefix(st.Skip, "the run finds it")
		if planned && (want == nil || contains(want, st.ID)) {
			found[st.ID] = true
			c := *sc
			c.Name = sc.Name + "--" + st.ID
			c.Description = fmt.Sprintf("%s (cell: %s at %s:%s)", sc.Description, kind, st.ID, m.Point)
			c.Matrix = nil
			f := Fault{Kind: kind, Point: st.ID + ":" + m.Point}
			if boot > 0 {
				f.Boot = boot
			}
			c.Faults = []Fault{f}
			if st.Skip != "" {
				c.Skip = "no cut at " + f.Point + ": " + st.Skip
			}
			// A cut adds a boot: the count is the cell's own.
			c.Expect.Boots = nil
			if err := c.Validate(); err != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
			cells = append(cells, &c)
		}
		if st.Checkpoint {
			boot++
		}
	}
	for _, id := range want {
		if !found[id] {
			return nil, fmt.Errorf("%s: matrix step %q is not a step the plan runs", sc.Name, id)
		}
	}
	if len(cells) == 0 {
		return nil, fmt.Errorf("%s: the matrix has no cell: the plan runs no step", sc.Name)
	}
	return cells, nil
}

// referenceSteps runs the scenario once without a fault, in process in
// a directory under dir, and returns its plan's steps: a step the run
// never started (the plan skips it, or zupgrade found its effect in place
// when it reached it) has Skip set, as no crash point after its start can
// be reached.
func referenceSteps(ctx context.Context, sc *Scenario, bins *Binaries, dir string) ([]planStep, error) {
	tmp, err := os.MkdirTemp(dir, "reference-"+sc.Name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	ref := *sc
	ref.Matrix = nil
	b, err := NewInProcess(tmp, &ref, bins)
	if err != nil {
		return nil, err
	}
	res, err := Execute(ctx, &ref, b)
	if err != nil {
		return nil, err
	}
	if !res.Passed() {
		return nil, fmt.Errorf("the run without a fault fails: %s\n%s", strings.Join(res.Failures, "; "), res.Log)
	}
	j, err := (steps.Store{Dir: b.mc.StateDir}).Load()
	if err != nil || j == nil {
		return nil, fmt.Errorf("the reference run's journal: %v", err)
	}
	var out []planStep
	for i, st := range j.Plan.Steps {
		ps := planStep{ID: st.ID, Checkpoint: st.Checkpoint, Skip: st.Skip}
		if i < len(j.Steps) && j.Steps[i].Attempts == 0 && ps.Skip == "" {
			ps.Skip = "the run finds it " + j.Steps[i].Note + " when it gets there"
		}
		out = append(out, ps)
	}
	return out, nil
}
