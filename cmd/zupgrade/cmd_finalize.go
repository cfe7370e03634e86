// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/steps"
)

type finalizeOptions struct {
	Keep       int
	Yes        bool
	JSON       bool
	DryRun     bool
	ExtraPools cli.StringSlice
}

func finalizeCommand(g *globalOptions, env Env, logger *log.Logger) *cli.Command {
	opts := &finalizeOptions{}
	return &cli.Command{
		Name:      "finalize",
		Usage:     "after a staged upgrade is committed: enable the pool features the loader reads, boot code again, zfs upgrade, prune old boot environments (one-way)",
		ArgsUsage: " ",
		Description: "The point of no return, apart from apply: once the pool's features are\n" +
			"enabled the old boot environments no longer boot. Refused (exit 4) while the\n" +
			"old boot environment is still the fallback (a trial boot pending or not\n" +
			"committed) unless --yes. A crash during finalize is resumed by running it again.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "keep", Usage: "keep `N` boot environments, the running one and the newest; destroy the others (default: destroy none)", Destination: &opts.Keep},
			&cli.StringSliceFlag{Name: "upgrade-pool", Usage: "also zpool upgrade `POOL` (the boot pool always is)", Destination: &opts.ExtraPools},
			&cli.BoolFlag{Name: "yes", Usage: "finalize even while the old boot environment is still the fallback, and ask nothing on a terminal", Destination: &opts.Yes},
			&cli.BoolFlag{Name: "dry-run", Usage: "print finalize's plan and change nothing", Destination: &opts.DryRun},
			&cli.BoolFlag{Name: "json", Usage: "print the plan (--dry-run) or what the run does as JSON Lines", Destination: &opts.JSON},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("finalize takes no arguments")
			}
			if opts.Keep < 0 {
				return usageErrorf("--keep %d: give the number of boot environments to keep, 1 or more (leave --keep out to destroy none)", opts.Keep)
			}
			if opts.DryRun {
				return planFinalize(c.Context, g, opts, env, logger)
			}
			out := newRunOutput(env, opts.JSON, logger)
			return out.end(runFinalize(c.Context, g, opts, env, logger, out))
		},
	}
}

// finalizePlan makes finalize's plan from the host and the journal's
// trial (pending says why it is not committed).
func finalizePlan(ctx context.Context, g *globalOptions, opts *finalizeOptions, pending string, env Env, logger *log.Logger) (*steps.Plan, error) {
	f, err := gatherFacts(ctx, env, "", "", logger)
	if err != nil {
		return nil, err
	}
	sopts := steps.Options{Keep: opts.Keep, Yes: opts.Yes, ExtraPools: opts.ExtraPools.Value(),
		StateDir: g.StateDir, LogDir: g.LogDir, Now: time.Now()}
	return steps.BuildFinalize(f, sopts, pending), nil
}

// trialPending says why the journal's staged run has not committed its
// new boot environment ("" when it did, or there is no journal).
func trialPending(j *steps.Journal) string {
	if j == nil {
		return ""
	}
	return j.TrialPending()
}

// planFinalize is finalize --dry-run: the plan, printed; nothing changes.
func planFinalize(ctx context.Context, g *globalOptions, opts *finalizeOptions, env Env, logger *log.Logger) error {
	j, err := stateStore(ctx, g, env).Load()
	if err != nil {
		return err
	}
	p, err := finalizePlan(ctx, g, opts, trialPending(j), env, logger)
	if err != nil {
		return err
	}
	if opts.JSON {
		if err := writeJSON(env.Stdout, p); err != nil {
			return err
		}
	} else {
		renderPlan(env.Stdout, p)
	}
	if p.Blocked() {
		return mark(ErrBlocked, fmt.Errorf("finalize blocked: %s", blockers(p)))
	}
	return nil
}

// runFinalize runs finalize: a pending finalize run is resumed, a new one
// planned, confirmed on a terminal and run through the journal.
func runFinalize(ctx context.Context, g *globalOptions, opts *finalizeOptions, env Env, logger *log.Logger, out *runOutput) error {
	env.stop.hold()
	store := stateStore(ctx, g, env)
	j, unlock, err := lockJournal(store)
	if err != nil {
		return err
	}
	defer unlock()
	finished := j != nil && (j.Status == steps.StatusDone || j.Status == steps.StatusRolledBack)
	switch {
	case j != nil && j.Plan.Mode == steps.ModeFinalize && !finished:
		if asks(env, opts.Yes) {
			qenv := questionEnv(env, opts.JSON)
			renderStatus(qenv, j, nil)
			if err := confirm(qenv, "\nResume this run?"); err != nil {
				return err
			}
		}
		logger.Info("resuming run", "run", j.RunID, "status", j.Status)
	case j != nil && !finished:
		return usageErrorf("run %s (%s) is pending (zupgrade status): finish it with zupgrade apply, or roll it back, before finalizing", j.RunID, j.Status)
	default:
		p, err := finalizePlan(ctx, g, opts, trialPending(j), env, logger)
		if err != nil {
			return err
		}
		if p.Blocked() {
			if !opts.JSON {
				renderPlan(env.Stdout, p)
			}
			return mark(ErrBlocked, fmt.Errorf("finalize blocked: %s", blockers(p)))
		}
		if err := agreeToStart(env, opts.Yes, opts.JSON, p, "\nFinalize? The old boot environments will no longer boot."); err != nil {
			return err
		}
		if j != nil {
			if err := archiveJournal(store, j, logger); err != nil {
				return err
			}
		}
		j = steps.NewJournal(p, time.Now())
		if err := store.Save(j); err != nil {
			return err
		}
		logger.Info("finalize started", "run", j.RunID)
	}
	return runJournal(ctx, g, store, j, false, false, env, logger, out, "finalize")
}
