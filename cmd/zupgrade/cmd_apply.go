// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/progress"
	"github.com/zupgrade/zupgrade/steps"
)

type applyOptions struct {
	planOptions
	Resume   bool
	NoReboot bool
	JSON     bool
}

func applyCommand(g *globalOptions, env Env, logger *log.Logger) *cli.Command {
	opts := &applyOptions{}
	return &cli.Command{
		Name:      "apply",
		Usage:     "run the upgrade (or resume the pending run); reboots at checkpoints and resumes after boot",
		ArgsUsage: "[plan.json]",
		Description: "With a saved plan, refuses (exit 6) when the host changed since it was made.\n" +
			"Exit 3 at a checkpoint with --no-reboot; exit 5 when another run holds the lock.",
		Flags: append([]cli.Flag{
			toFlag(&opts.To, "target `RELEASE`, e.g. 14.2-RELEASE (none: patch update)"),
			&cli.StringFlag{Name: "packages", Value: "auto", Usage: "third-party software upgrade: auto (portmaster for software built from ports, else pkg), pkg, portmaster or none", Destination: &opts.Packages},
			&cli.BoolFlag{Name: "compat-libs", Usage: "install misc/compatNNx when packages remain built for the old release, instead of stopping before install #3", Destination: &opts.CompatLibs},
			&cli.StringSliceFlag{Name: "upgrade-pool", Usage: "also zpool upgrade `POOL`", Destination: &opts.ExtraPools},
			&cli.BoolFlag{Name: "no-pool-upgrade", Usage: "leave pool features and file system versions as they are", Destination: &opts.NoPoolUpgrade},
			&cli.BoolFlag{Name: "format-esps", Usage: "format the boot-pool disks' EFI system partitions that hold no file system", Destination: &opts.FormatESPs},
			&cli.BoolFlag{Name: "yes", Usage: "answer yes to every question: apply's own on a terminal (run the plan?), and what freebsd-update asks beyond the upgrade (replacing a custom kernel with GENERIC)", Destination: &opts.Yes},
			&cli.BoolFlag{Name: "no-reboot", Usage: "stop with exit 3 at a reboot checkpoint instead of rebooting", Destination: &opts.NoReboot},
			&cli.BoolFlag{Name: "resume", Usage: "resume the pending run (what the boot hook runs)", Destination: &opts.Resume},
			&cli.BoolFlag{Name: "json", Usage: "print what the run does as JSON Lines, one event a line", Destination: &opts.JSON},
		}, stagedFlags(&opts.planOptions)...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageErrorf("apply takes at most one saved plan")
			}
			out := newRunOutput(env, opts.JSON, logger)
			return out.end(runApply(c.Context, g, opts, c.Args().First(), env, logger, out))
		},
	}
}

func runApply(ctx context.Context, g *globalOptions, opts *applyOptions, planFile string, env Env, logger *log.Logger, out *runOutput) error {
	env.stop.hold()
	store := stateStore(ctx, g, env)
	j, unlock, err := lockJournal(store)
	if err != nil {
		return err
	}
	defer unlock()
	if j != nil && (j.Status == steps.StatusDone || j.Status == steps.StatusRolledBack) {
		if err := archiveJournal(store, j, logger); err != nil {
			return err
		}
		j = nil
	}
	if j != nil && j.FellBack {
		return trialOver(j)
	}
	fresh := false
	switch {
	case j != nil && (opts.To != "" || planFile != "") && !samePlanTarget(j, opts.To, planFile):
		return usageErrorf("a run to %s is pending (zupgrade status); finish it with zupgrade apply, or roll it back, before starting another", orDash(j.Plan.To))
	case j == nil && opts.Resume:
		if out.json {
			out.emit(progress.Event{Kind: progress.Note, Text: "no zupgrade run is pending"})
		} else {
			fprintf(env.Stdout, "no zupgrade run is pending\n")
		}
		return nil
	case j == nil:
		p, err := newRunPlan(ctx, g, opts, planFile, env, logger)
		var at *atTargetError
		if errors.As(err, &at) {
			if out.json {
				out.emit(progress.Event{Kind: progress.Note, Text: "nothing to do: " + at.Error()})
			} else {
				fprintf(env.Stdout, "nothing to do: %v\n", at)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := agreeToStart(env, opts.Yes, opts.JSON, p, "\nRun this plan on the host? It reboots the host at each reboot checkpoint."); err != nil {
			return err
		}
		j = steps.NewJournal(p, time.Now())
		fresh = true
		j.NoReboot = opts.NoReboot
		if err := store.Save(j); err != nil {
			return err
		}
		logger.Info("run started", "run", j.RunID, "from", p.From, "to", orDash(p.To))
		if removed, err := pruneRunLogs(g.LogDir, j.RunID, keepRunLogs); err != nil {
			logger.Warn("cannot remove the logs of older runs", "dir", g.LogDir, "err", err)
		} else if len(removed) > 0 {
			logger.Info("removed the logs of older runs", "kept runs", keepRunLogs, "files", len(removed))
		}
	default:
		if !opts.Resume && asks(env, opts.Yes) {
			qenv := questionEnv(env, opts.JSON)
			renderStatus(qenv, j, nil)
			if err := confirm(qenv, "\nResume this run?"); err != nil {
				return err
			}
		}
		logger.Info("resuming run", "run", j.RunID, "status", j.Status)
		if opts.CompatLibs && !j.Plan.Options.CompatLibs {
			// Allowed on a pending run: it only lets the package step
			// install misc/compatNNx where it would stop.
			j.Plan.Options.CompatLibs = true
			if err := store.Save(j); err != nil {
				return err
			}
			logger.Info("packages still built for the old release get misc/compatNNx (--compat-libs)")
		}
		if opts.Yes && !j.Plan.Options.Yes {
			// The admin's agreement may come after the run stopped to ask
			// for it; it holds for the rest of the run.
			j.Plan.Options.Yes = true
			if err := store.Save(j); err != nil {
				return err
			}
			logger.Info("--yes holds for the rest of the run")
		}
	}

	err = runJournal(ctx, g, store, j, opts.NoReboot, opts.Resume, env, logger, out, "apply")
	if err != nil && fresh && untouched(j) {
		// Refused before its first step (a packaged zupgrade in the boot
		// hook's place, another boot environment's run): a journal left
		// behind would be a pending run, refused again at every apply.
		if rerr := store.Remove(); rerr != nil {
			return fmt.Errorf("%w (and its journal could not be removed: %v)", err, rerr)
		}
		return fmt.Errorf("%w\nthe run did not start: nothing was changed and no run is pending", err)
	}
	return err
}

// untouched reports whether the journal's run has started no step and
// recorded nothing.
func untouched(j *steps.Journal) bool {
	for _, r := range j.Steps {
		if r.State != steps.StepPending && r.State != steps.StepSkipped {
			return false
		}
	}
	return j.Status == steps.StatusRunning && j.Message == ""
}

// trialOver is apply's answer, in the boot environment a staged run
// upgraded from, once the run ended there after its trial failed: the
// trial is not tried again by itself, since nothing has changed that
// would make it pass; the admin closes the run and starts a new one.
func trialOver(j *steps.Journal) error {
	s := j.Plan.Staged
	return fmt.Errorf("run %s is over: %s\napply does not try the trial again: look into %s (bectl mount %s), then zupgrade rollback closes the run (the host stays on %s), and bectl destroy %s and zupgrade apply --to %s start a new one", j.RunID, j.Message, s.BootEnv, s.BootEnv, s.Running, s.BootEnv, j.Plan.To)
}

// runJournal runs the journal's plan from where it stands, as apply does
// and finalize: the run log, the commands a killed run left running
// stopped, the engine; again names the command that resumes the run.
func runJournal(ctx context.Context, g *globalOptions, store steps.Store, j *steps.Journal, noReboot, resume bool, env Env, logger *log.Logger, out *runOutput, again string) error {
	runLog, closeLog, err := openRunLog(g.LogDir, j.RunID)
	if err != nil {
		return err
	}
	defer closeLog()
	// A command that a killed zupgrade left running is stopped before
	// this run starts another beside it.
	children, runner, err := openChildren(store.Dir, env.runner(), out)
	if err != nil {
		return err
	}
	defer children.Close()
	crash := env.Crash
	if crash == nil {
		crash = crashHook(env)
	}
	eng := &steps.Engine{
		Events:   progress.Tee(out.pulse, progress.RunLog{Log: runLog}),
		Runner:   loggingRunner{next: runner, logger: logger},
		Store:    store,
		NoReboot: noReboot,
		Resume:   resume,
		Binary:   env.executable(),
		Crash:    crash,

		Interrupted: env.stop.Stopped,
	}
	outcome, err := eng.Apply(ctx, j)
	if err != nil {
		var serr *steps.StepError
		if errors.As(err, &serr) {
			return fmt.Errorf("%w\nthe run is kept: fix the cause and run zupgrade %s again (zupgrade status shows where it stands)", err, again)
		}
		return err
	}
	switch outcome {
	case steps.Rebooting:
		logger.Info("rebooting; the run resumes after boot")
	case steps.Stopped:
		return mark(ErrCheckpoint, fmt.Errorf("stopped at a reboot checkpoint: reboot the host, then run zupgrade apply (the boot hook does it by itself)"))
	case steps.Finished:
		logger.Info("run complete", "run", j.RunID)
	}
	return nil
}

// openRunLog opens the run's JSON log, RUN.json in the log directory
// (appending: a resumed run continues its log).
func openRunLog(dir, runID string) (*log.Logger, func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, runID+".json"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, err
	}
	l := log.NewWithOptions(f, log.Options{Formatter: log.JSONFormatter, ReportTimestamp: true, TimeFormat: time.RFC3339Nano})
	l.Info("apply", "version", progress.RunLogVersion, "pid", os.Getpid())
	return l, func() { f.Sync(); f.Close() }, nil
}

// lockJournal takes the state directory's lock (a *steps.LockedError when
// another run holds it) and loads the journal (a *steps.JournalError when
// it cannot be used).
func lockJournal(store steps.Store) (*steps.Journal, func(), error) {
	unlock, err := store.Lock()
	if err != nil {
		return nil, nil, err
	}
	j, err := store.Load()
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return j, unlock, nil
}

// samePlanTarget reports whether the options name the pending run's target.
func samePlanTarget(j *steps.Journal, to, planFile string) bool {
	if planFile != "" {
		return false
	}
	return to == j.Plan.To
}

// agreeToStart is the last word before a new run starts: a stop asked
// for before it ends it with the host unchanged, and on a terminal
// (without --yes) the admin sees the plan and answers question.
func agreeToStart(env Env, yes, asJSON bool, p *steps.Plan, question string) error {
	if env.stop.Stopped() {
		return mark(ErrInterrupted, errors.New("interrupted before the run started: the host was not changed"))
	}
	if !asks(env, yes) {
		return nil
	}
	qenv := questionEnv(env, asJSON)
	renderPlan(qenv.Stdout, p)
	return confirm(qenv, question)
}

// newRunPlan makes the plan of a new run: from a saved plan, checked
// against the host, or made now.
func newRunPlan(ctx context.Context, g *globalOptions, opts *applyOptions, planFile string, env Env, logger *log.Logger) (*steps.Plan, error) {
	var p *steps.Plan
	if planFile != "" {
		data, err := os.ReadFile(planFile)
		if err != nil {
			return nil, usageErrorf("read plan: %v", err)
		}
		if p, err = steps.ReadPlan(data); err != nil {
			return nil, usageErrorf("%s %v", planFile, err)
		}
	}
	f, err := gatherFacts(ctx, env, "", "", logger)
	if err != nil {
		return nil, err
	}
	if err := atTarget(f, opts.To); planFile == "" && err != nil {
		return nil, err
	}
	if p != nil {
		if steps.Fingerprint(f) != p.FactsHash {
			return nil, mark(ErrStale, fmt.Errorf("%s no longer matches the host (it changed since the plan was made): make a new plan with zupgrade plan -o", planFile))
		}
		// The saved plan is never run as written: it must be the plan
		// zupgrade makes for this host with the saved options, and the
		// run uses the plan made again with this run's state directory.
		p.Options.StateDataset = stateDataset(ctx, env, "", p.Options.StateDir, logger)
		if !samePlan(steps.Build(f, p.Options), p) {
			return nil, usageErrorf("%s is not the plan zupgrade makes for this host with its options (it was edited, or made by another version of zupgrade): make a new plan with zupgrade plan -o", planFile)
		}
		o := p.Options
		o.StateDir, o.LogDir, o.StateDirWhy = g.StateDir, g.LogDir, g.stateDirWhy
		o.StateDataset = stateDataset(ctx, env, "", o.StateDir, logger)
		p = steps.Build(f, o)
	} else {
		sopts, err := opts.stepOptions(g, time.Now())
		if err != nil {
			return nil, err
		}
		sopts.StateDataset = stateDataset(ctx, env, "", sopts.StateDir, logger)
		p = steps.Build(f, sopts)
	}
	if p.Blocked() {
		if !opts.JSON {
			renderPlan(env.Stdout, p)
		}
		return nil, mark(ErrBlocked, fmt.Errorf("plan blocked: %s", blockers(p)))
	}
	return p, nil
}

// archiveJournal moves a finished run's journal aside, as
// journal-RUN.json, and removes the archives of older runs beyond the
// newest keepJournals.
func archiveJournal(store steps.Store, j *steps.Journal, logger *log.Logger) error {
	if err := os.Rename(store.JournalPath(), strings.TrimSuffix(store.JournalPath(), ".json")+"-"+j.RunID+".json"); err != nil {
		return err
	}
	if removed, err := pruneJournals(store.Dir, j.RunID, keepJournals); err != nil {
		logger.Warn("cannot remove the journals of older runs", "dir", store.Dir, "err", err)
	} else if len(removed) > 0 {
		logger.Info("removed the journals of older runs", "kept runs", keepJournals, "files", len(removed))
	}
	return nil
}

// samePlan reports whether two plans say the same, as their JSON does.
func samePlan(a, b *steps.Plan) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// atTargetError says that the host runs the target release already.
type atTargetError struct{ release, to string }

func (e *atTargetError) Error() string {
	return fmt.Sprintf("the host runs %s already, kernel and world (patches of %s: zupgrade apply without --to)", e.release, e.to)
}

// atTarget returns an *atTargetError when the running kernel, the
// installed kernel and the world are all of release to (at any patch
// level): an upgrade to it has nothing to do, and freebsd-update would
// refuse it ("Cannot upgrade from X to itself").
func atTarget(f *facts.Facts, to string) error {
	if to == "" {
		return nil
	}
	want, err := freebsdupdate.ParseRelease(to)
	if err != nil {
		return nil
	}
	for _, v := range []string{f.Release.Running, f.Release.Kernel, f.Release.Userland} {
		r, err := freebsdupdate.ParseRelease(v)
		if err != nil || r.Base() != want {
			return nil
		}
	}
	return &atTargetError{release: f.Release.Running, to: want.String()}
}
