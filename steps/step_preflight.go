// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
)

// preflightStep inspects the host again when apply starts and refuses to
// go on when a check blocks or the host no longer matches the plan.
type preflightStep struct{}

func (preflightStep) id() string       { return StepPreflight }
func (preflightStep) rerunnable() bool { return true }

// done: the checks are made anew on every run.
func (preflightStep) done(*stepContext, context.Context) (bool, error) { return false, nil }

func (preflightStep) run(sc *stepContext, ctx context.Context) error { return sc.runPreflight(ctx) }

func (preflightStep) plan(b builder) Step {
	return Step{ID: StepPreflight, Title: "Preflight checks",
		Verify: Verification{Check: VerifyChecksAgain}}
}

// runPreflight inspects the host again and refuses to go on when a check
// blocks or the host no longer matches the plan.
func (sc *stepContext) runPreflight(ctx context.Context) error {
	f, err := facts.Gather(ctx, host.ReadOnlyRunner{Next: sc.e.Runner})
	if err != nil {
		return err
	}
	if Fingerprint(f) != sc.plan.FactsHash {
		return fmt.Errorf("the host changed since the plan was made; make a new plan (zupgrade plan)")
	}
	p := Build(f, sc.plan.Options)
	if p.Blocked() {
		var why []string
		for _, c := range p.Checks {
			if c.Verdict == Block {
				why = append(why, c.Title+": "+c.Reason+" (fix: "+c.Fix+")")
			}
		}
		return fmt.Errorf("a preflight check blocks: %s", strings.Join(why, "; "))
	}
	return nil
}
