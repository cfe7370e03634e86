// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"fmt"
	"strings"
)

// TrialFailure is how the journal says a staged run's trial failed: the
// run ended failed, its message saying "trial of BE failed: WHY" (after
// the failed step's name); it returns that part, "" when there is none.
func (j *Journal) TrialFailure() string {
	if j.Status != StatusFailed {
		return ""
	}
	if i := strings.Index(j.Message, "trial of "); i >= 0 && strings.Contains(j.Message[i:], " failed: ") {
		return j.Message[i:]
	}
	return ""
}

// TrialPending says why the journal's staged run has not committed its
// new boot environment, "" when it did or the run is not staged.
func (j *Journal) TrialPending() string {
	rec := j.Record(StepCommitBootEnv)
	if rec == nil || rec.State == StepDone {
		return ""
	}
	if f := j.TrialFailure(); f != "" {
		return fmt.Sprintf("run %s did not commit its new boot environment: %s", j.RunID, f)
	}
	return fmt.Sprintf("run %s has not committed its new boot environment (step %s is %s; zupgrade status)", j.RunID, StepCommitBootEnv, rec.State)
}
