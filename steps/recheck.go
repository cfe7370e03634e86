// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/zupgrade/zupgrade/progress"
)

// recheckedWhenDone are the steps whose effect stays on the host for the
// rest of the run once they are done, and whose check is cheap and
// decisive: a journal that says one of them is done is checked against the
// host again whenever a run goes past it, since a journal may have been
// edited, or the host changed behind the run. The value says what happens
// when the effect is gone: true, the step runs again (boot code written
// again is the new boot code), and it is checked only while the run stands
// right after it (later the steps that need it check the host themselves:
// the pool upgrade reads every disk's boot code back, and a disk gone or a
// loader restored since then is theirs to report); false, the run stops (a
// backup made half way through the upgrade would not be the host before
// it).
var recheckedWhenDone = map[string]bool{
	StepBootcode: true,
	StepBackup:   false,
}

// recheckDone checks step i, which the journal says is done, against the
// host: it marks the step pending again when its effect is gone and it may
// run again, and returns the run's error when it may not. A check that
// cannot tell leaves the journal's word.
func (e *Engine) recheckDone(ctx context.Context, j *Journal, i int) error {
	step, rec := j.Plan.Steps[i], &j.Steps[i]
	rerun, ok := recheckedWhenDone[step.ID]
	def, known := stepByID(step.ID)
	if !ok || !known || rec.State != StepDone || rerun && !j.next(i) {
		return nil
	}
	sc := &stepContext{e: e, plan: j.Plan, step: step, journal: j, rec: rec}
	done, err := def.done(sc, ctx)
	switch {
	case errors.Is(err, errUndecided), err == nil && done:
		return nil
	case err != nil:
		return e.fail(j, step.ID, fmt.Errorf("checking that the step done earlier is still in effect: %w", err))
	case !rerun:
		return e.fail(j, step.ID, fmt.Errorf("the journal says it is done, but the host shows otherwise (%s): the host changed since, or the journal was edited; zupgrade does not go on: check the host and the journal (zupgrade status)", step.Verify))
	}
	rec.State = StepPending
	rec.Note = "the journal said done, but the host lacked its effect"
	e.emit(progress.Event{Kind: progress.Note, Step: step.ID, Text: step.ID + ": the journal says done, but the host lacks its effect; running it again"})
	return e.save(j)
}

// next reports whether the run stands right after step i: the first step
// after it that is not skipped has not started.
func (j *Journal) next(i int) bool {
	for _, r := range j.Steps[i+1:] {
		if r.State != StepSkipped {
			return r.State == StepPending
		}
	}
	return false
}
