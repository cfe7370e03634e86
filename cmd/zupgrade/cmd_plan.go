// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"
	"github.com/zupgrade/zupgrade/internal/durable"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

type planOptions struct {
	To            string
	JSON          bool
	Output        string
	Replay        string
	Capture       string
	Packages      string
	CompatLibs    bool
	ExtraPools    cli.StringSlice
	NoPoolUpgrade bool
	FormatESPs    bool
	Yes           bool
	InPlace       bool
	HealthCmd     string
	AutoRevert    bool
	TrialDeadline time.Duration
}

// stagedFlags are the flags of plan and apply that choose and shape a
// staged upgrade.
func stagedFlags(o *planOptions) []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "in-place", Usage: "upgrade the running system in place (two reboots) even where a staged upgrade in a new boot environment is possible", Destination: &o.InPlace},
		&cli.StringFlag{Name: "health-cmd", Usage: "staged: also check the trial boot with `COMMAND` (words split on blanks, run without a shell; exit 0 is healthy)", Destination: &o.HealthCmd},
		&cli.BoolFlag{Name: "auto-revert", Usage: "staged: when the trial boot's health checks fail, reboot into the old boot environment at once", Destination: &o.AutoRevert},
		&cli.DurationFlag{Name: "trial-deadline", Value: steps.DefaultTrialDeadline * time.Second, Usage: "staged: arm the hardware watchdog for `DURATION` early in the trial boot, so that a trial that hangs is reset into the old boot environment (0: none)", Destination: &o.TrialDeadline},
	}
}

func planCommand(g *globalOptions, env Env, logger *log.Logger) *cli.Command {
	opts := &planOptions{}
	return &cli.Command{
		Name:      "plan",
		Usage:     "audit the host and print every step of the upgrade with its exact commands; changes nothing",
		ArgsUsage: " ",
		Description: "Without --to, plans a patch update of the running release. Exits 4 when a\n" +
			"check blocks the plan. The host is only read: every command plan runs is\n" +
			"checked against a list of read-only commands before it starts.",
		Flags: append([]cli.Flag{
			toFlag(&opts.To, "target `RELEASE`, e.g. 14.2-RELEASE"),
			&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON", Destination: &opts.JSON},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "save the plan to `FILE` for zupgrade apply FILE", TakesFile: true, Destination: &opts.Output},
			&cli.StringFlag{Name: "replay", Usage: "plan from a capture `FILE` (zupgrade inspect --capture) instead of this machine", TakesFile: true, Destination: &opts.Replay},
			&cli.StringFlag{Name: "capture", Usage: "also write every probe's output to `FILE`", TakesFile: true, Destination: &opts.Capture},
			&cli.StringFlag{Name: "packages", Value: "auto", Usage: "third-party software upgrade: auto (portmaster for software built from ports, else pkg), pkg, portmaster or none", Destination: &opts.Packages},
			&cli.BoolFlag{Name: "compat-libs", Usage: "install misc/compatNNx when packages remain built for the old release, instead of stopping before install #3", Destination: &opts.CompatLibs},
			&cli.StringSliceFlag{Name: "upgrade-pool", Usage: "also zpool upgrade `POOL` (the boot pool always is)", Destination: &opts.ExtraPools},
			&cli.BoolFlag{Name: "no-pool-upgrade", Usage: "leave pool features and file system versions as they are", Destination: &opts.NoPoolUpgrade},
			&cli.BoolFlag{Name: "format-esps", Usage: "format the boot-pool disks' EFI system partitions that hold no file system", Destination: &opts.FormatESPs},
			&cli.BoolFlag{Name: "yes", Usage: "agree to what freebsd-update asks beyond the upgrade (replacing a custom kernel with GENERIC)", Destination: &opts.Yes},
		}, stagedFlags(opts)...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("plan takes no arguments (did you mean --to %s?)", c.Args().First())
			}
			return runPlan(c.Context, g, opts, env, logger)
		},
	}
}

// toFlag is --to: the target release. Given with an empty value (an unset
// shell variable, a blank template field) it is a usage error, never a
// patch run: a patch run is asked for by leaving --to out. So is a name
// that is no release name, or names no release FreeBSD published
// (freebsdupdate.CheckPublished): whatever the host, nothing could upgrade
// it there. Whether this host can go to the release is the plan's target
// check.
func toFlag(dest *string, usage string) cli.Flag {
	return &cli.StringFlag{Name: "to", Usage: usage, Destination: dest,
		Action: func(_ *cli.Context, v string) error {
			if strings.TrimSpace(v) == "" {
				return usageErrorf("--to %q: name the target release (e.g. --to 14.2-RELEASE), or leave --to out to apply patches", v)
			}
			r, err := freebsdupdate.ParseRelease(v)
			if err != nil {
				return usageErrorf("--to %q: %v", v, err)
			}
			if err := freebsdupdate.CheckPublished(r); err != nil {
				return usageErrorf("--to %s: %v", v, err)
			}
			return nil
		}}
}

func (o *planOptions) stepOptions(g *globalOptions, now time.Time) (steps.Options, error) {
	switch o.Packages {
	case "auto", "pkg", "portmaster", "none":
	default:
		return steps.Options{}, usageErrorf("--packages %q: want auto, pkg, portmaster or none", o.Packages)
	}
	health := strings.Fields(o.HealthCmd)
	if o.HealthCmd != "" {
		if err := steps.CheckHealthCommand(health); err != nil {
			return steps.Options{}, usageErrorf("%v", err)
		}
	}
	if o.InPlace && (o.HealthCmd != "" || o.AutoRevert) {
		return steps.Options{}, usageErrorf("--health-cmd and --auto-revert are for staged upgrades: leave out --in-place, or them")
	}
	deadline, err := trialDeadline(o.TrialDeadline)
	if err != nil {
		return steps.Options{}, err
	}
	return steps.Options{
		To: o.To, Packages: o.Packages, CompatLibs: o.CompatLibs, StateDir: g.StateDir, LogDir: g.LogDir,
		ExtraPools: o.ExtraPools.Value(), NoPoolUpgrade: o.NoPoolUpgrade, FormatESPs: o.FormatESPs, Yes: o.Yes, Now: now,
		InPlace: o.InPlace, HealthCmd: health, AutoRevert: o.AutoRevert, TrialDeadline: deadline, StateDirWhy: g.stateDirWhy,
	}, nil
}

// trialDeadline turns --trial-deadline into steps.Options.TrialDeadline:
// 0 for the default, -1 for none (0 given), else whole seconds.
func trialDeadline(d time.Duration) (int, error) {
	switch {
	case d == 0:
		return -1, nil
	case d < time.Minute:
		return 0, usageErrorf("--trial-deadline %s: a trial boot, its services and its health checks take longer than that, and the watchdog would reset a healthy trial: give at least 1m, or 0 for no deadline", d)
	case d == steps.DefaultTrialDeadline*time.Second:
		return 0, nil
	}
	return int(math.Ceil(d.Seconds())), nil
}

func runPlan(ctx context.Context, g *globalOptions, opts *planOptions, env Env, logger *log.Logger) error {
	sopts, err := opts.stepOptions(g, time.Now())
	if err != nil {
		return err
	}
	if opts.Capture != "" && opts.Replay != "" {
		return usageErrorf("--capture and --replay exclude each other")
	}
	f, err := gatherFacts(ctx, env, opts.Replay, opts.Capture, logger)
	if err != nil {
		return err
	}
	var at *atTargetError
	if errors.As(atTarget(f, opts.To), &at) {
		return planNothingToDo(env, opts, f, sopts, at)
	}
	sopts.StateDataset = stateDataset(ctx, env, opts.Replay, sopts.StateDir, logger)
	p := steps.Build(f, sopts)
	if opts.Output != "" && !p.Blocked() {
		data, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return err
		}
		if err := durable.WriteFile(opts.Output, append(data, '\n'), 0o600); err != nil {
			return fmt.Errorf("save plan: %w", err)
		}
	}
	if opts.JSON {
		if err := writeJSON(env.Stdout, p); err != nil {
			return err
		}
	} else {
		renderPlan(env.Stdout, p)
	}
	if p.Blocked() && opts.Output != "" {
		return mark(ErrBlocked, fmt.Errorf("plan blocked: %s; not saved to %s", blockers(p), opts.Output))
	}
	if p.Blocked() {
		return mark(ErrBlocked, fmt.Errorf("plan blocked: %s", blockers(p)))
	}
	return nil
}

// planNothingToDo reports, as apply does, that the host runs the target
// release already: a line of text, or with --json a plan document with no
// checks and no steps whose nothing_to_do says why. No plan is saved.
func planNothingToDo(env Env, opts *planOptions, f *facts.Facts, sopts steps.Options, at *atTargetError) error {
	if opts.JSON {
		return writeJSON(env.Stdout, &steps.Plan{
			Format: steps.PlanFormat, Mode: "upgrade", From: f.Release.Running, To: at.to,
			Options: sopts, Checks: []steps.Check{}, Steps: []steps.Step{},
			Facts: *f, FactsHash: steps.Fingerprint(f), NothingToDo: at.Error(),
		})
	}
	if opts.Output != "" {
		fprintf(env.Stdout, "nothing to do: %v; no plan saved to %s\n", at, opts.Output)
		return nil
	}
	fprintf(env.Stdout, "nothing to do: %v\n", at)
	return nil
}

func blockers(p *steps.Plan) string {
	var ids []string
	for _, c := range p.Checks {
		if c.Verdict == steps.Block {
			ids = append(ids, c.ID)
		}
	}
	return strings.Join(ids, ", ")
}

// renderPlan prints a plan for a human: checks with their verdicts, then
// each step with the commands it will run.
func renderPlan(w io.Writer, p *steps.Plan) {
	switch p.Mode {
	case "patch":
		fprintf(w, "Plan: patch update of %s\n\n", p.From)
	case steps.ModeFinalize:
		fprintf(w, "Plan: finalize %s (one-way: the old boot environments no longer boot after it)\n\n", p.From)
	default:
		fprintf(w, "Plan: upgrade %s -> %s\n", p.From, orDash(p.To))
		if p.MethodReason != "" {
			fprintf(w, "Method: %s\n", p.MethodReason)
		}
		fprintf(w, "\n")
	}
	fprintf(w, "Checks:\n")
	for _, c := range p.Checks {
		fprintf(w, "  [%-5s] %s: %s\n", c.Verdict, c.Title, c.Reason)
		if c.Fix != "" && c.Verdict != steps.OK {
			fprintf(w, "          fix: %s\n", c.Fix)
		}
	}
	fprintf(w, "\nSteps:\n")
	for i, s := range p.Steps {
		kind := ""
		if s.Checkpoint {
			kind = " [reboot checkpoint]"
		}
		fprintf(w, "  %2d. %s (%s)%s\n", i+1, s.Title, s.ID, kind)
		if s.Skip != "" {
			fprintf(w, "      skipped: %s\n", s.Skip)
			continue
		}
		for _, c := range s.Commands {
			line := host.QuoteArgs(c.Args)
			if len(c.Env) > 0 {
				line = strings.Join(c.Env, " ") + " " + line
			}
			if c.Terminal {
				line += "    # on a pseudo-terminal, questions answered"
			}
			if !c.When.IsZero() {
				line += "    # when " + c.When.String()
			}
			fprintf(w, "      $ %s\n", line)
		}
		for _, n := range s.Notes {
			fprintf(w, "      note: %s\n", n)
		}
		fprintf(w, "      verify: %s\n", s.Verify)
	}
	if p.Staged != nil {
		// The one-way steps are not the staged upgrade's: finalize does
		// them, apart.
		fprintf(w, "\n")
		for _, l := range steps.FinalizeStage(&p.Facts, p.Options) {
			fprintf(w, "%s\n", l)
		}
	}
	if p.Blocked() {
		fprintf(w, "\nBLOCKED: fix the checks marked [block], then plan again.\n")
	}
}
