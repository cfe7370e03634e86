// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
)

// pruneStep destroys the boot environments beyond the newest --keep,
// never the running one nor the one the next boot uses. Destroying one
// that is gone already is skipped, so the step can run again after a
// crash.
type pruneStep struct{}

func (pruneStep) id() string       { return StepPrune }
func (pruneStep) rerunnable() bool { return true }

func (pruneStep) plan(b builder) Step {
	s := Step{ID: StepPrune, Title: "Destroy old boot environments (one-way)",
		Verify: Verification{Check: VerifyBootEnvsGone}}
	keep := b.opts.Keep
	if keep <= 0 {
		s.Skip = "--keep not given: every boot environment stays"
		return s
	}
	bes := slices.Clone(b.f.BootEnvs.List)
	// Newest first; bectl prints the creation time to the minute, and a
	// stable sort keeps bectl's order among equals.
	slices.SortStableFunc(bes, func(x, y facts.BootEnv) int { return strings.Compare(y.Created, x.Created) })
	kept := 0
	for _, be := range bes {
		if be.Active || be.OnReboot {
			kept++
		}
	}
	for _, be := range bes {
		switch {
		case be.Active || be.OnReboot:
		case kept < keep:
			kept++
		default:
			op := &DestroyBootEnv{Name: be.Name}
			if err := op.check(); err != nil {
				s.Notes = append(s.Notes, err.Error())
				continue
			}
			s.Commands = append(s.Commands, cmdFor(op, Cond{}))
		}
	}
	s.Notes = append(s.Notes, fmt.Sprintf("keeps %d boot environment(s): the running one, the one the next boot uses, then the newest", keep))
	if len(s.Commands) == 0 {
		s.Skip = fmt.Sprintf("no more than %d boot environment(s)", keep)
	}
	return s
}

// remainingBootEnvs lists those of the step's boot environments that
// bectl list still shows.
func (sc *stepContext) remainingBootEnvs(ctx context.Context) ([]*DestroyBootEnv, error) {
	out, err := host.Output(ctx, sc.e.Runner, bootenv.ListArgs()...)
	if err != nil {
		return nil, err
	}
	bes, err := bootenv.ParseList(bootenv.ListCommand, out)
	if err != nil {
		return nil, err
	}
	var left []*DestroyBootEnv
	for _, c := range sc.step.Commands {
		if op, ok := c.Op.(*DestroyBootEnv); ok {
			if _, there := bootenv.Find(bes, op.Name); there {
				left = append(left, op)
			}
		}
	}
	return left, nil
}

func (pruneStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	left, err := sc.remainingBootEnvs(ctx)
	return err == nil && len(left) == 0, err
}

func (pruneStep) run(sc *stepContext, ctx context.Context) error {
	left, err := sc.remainingBootEnvs(ctx)
	if err != nil {
		return err
	}
	for _, op := range left {
		if _, err := sc.run(ctx, cmdFor(op, Cond{})); err != nil {
			return err
		}
	}
	return nil
}
