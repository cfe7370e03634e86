// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
)

// Outcome says how Apply ended.
type Outcome int

// The outcomes of Apply.
const (
	// Finished: every step is done.
	Finished Outcome = iota + 1
	// Rebooting: a checkpoint rebooted the host; the boot hook resumes.
	Rebooting
	// Stopped: a checkpoint stopped the run (--no-reboot).
	Stopped
)

// CrashPoint names a moment of a step's life, for fault-injection tests.
type CrashPoint string

// The points at which a test may stop zupgrade.
const (
	BeforeStart  CrashPoint = "before-start"
	AfterStarted CrashPoint = "after-started"
	AfterRun     CrashPoint = "after-run"
)

// Engine runs a plan's steps through a host.Runner, recording progress in
// the journal so that a run survives reboots, crashes and power cuts.
type Engine struct {
	Runner host.Runner
	Store  Store
	// Events receives what the run does: steps, commands, their output as
	// it comes, notes, checkpoints (package progress renders them); nil
	// drops them.
	Events progress.Sink
	// NoReboot stops at checkpoints instead of rebooting.
	NoReboot bool
	// Resume is set when the boot hook started this run: a checkpoint
	// whose expected state is not there after a reboot is then a failure,
	// not a reason to reboot again.
	Resume bool
	// Binary is the running zupgrade (its path on the host). At each
	// checkpoint it is copied to /usr/local/sbin/zupgrade, which the boot
	// hook runs, unless that file has the same content already; empty: no
	// copy is made.
	Binary string
	// Crash, when set, is called at every CrashPoint of every step; tests
	// use it to kill the process there.
	Crash func(step string, point CrashPoint)
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Interrupted, when set, reports whether the run was asked to stop
	// (SIGINT, SIGTERM). The engine asks at safe points only: before each
	// step, and when a step's command has ended; a running command is
	// never stopped. The run is then left "interrupted" and Apply returns
	// an error wrapping ErrInterrupted.
	Interrupted func() bool
}

// ErrInterrupted is what Apply's error wraps when Interrupted stopped it.
var ErrInterrupted = errors.New("interrupted")

func (e *Engine) interrupted() bool { return e.Interrupted != nil && e.Interrupted() }

// interrupt records the run as interrupted before step, and returns the
// error to report.
func (e *Engine) interrupt(j *Journal, step string, cause error) error {
	j.Status = StatusInterrupted
	j.Message = "interrupted before step " + step + "; zupgrade apply resumes the run"
	if cause != nil {
		j.Message = fmt.Sprintf("interrupted during step %s, whose command ended with: %v; zupgrade apply resumes the run", step, cause)
	}
	e.emit(progress.Event{Kind: progress.Interrupted, Step: step, Text: j.Message})
	err := fmt.Errorf("%w: %s", ErrInterrupted, j.Message)
	if serr := e.save(j); serr != nil {
		return fmt.Errorf("%w (and the journal could not be saved: %v)", err, serr)
	}
	return err
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// emit stamps ev with the time and sends it to Events.
func (e *Engine) emit(ev progress.Event) {
	if e.Events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	e.Events.Emit(ev)
}

func (e *Engine) crash(step string, p CrashPoint) {
	if e.Crash != nil {
		e.Crash(step, p)
	}
}

// StepError is a step that failed; the journal keeps the run's state.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// errUndecided marks a step whose Done check cannot tell.
var errUndecided = errors.New("cannot tell whether the step took effect")

// Apply runs the journal's plan from where it stands.
func (e *Engine) Apply(ctx context.Context, j *Journal) (Outcome, error) {
	if err := e.sameBootEnv(ctx, j); err != nil {
		return 0, err
	}
	if err := e.checkHookBinaryFirst(ctx, j); err != nil {
		return 0, err
	}
	total := len(j.Plan.Steps)
	for i, step := range j.Plan.Steps {
		rec := &j.Steps[i]
		if err := e.recheckDone(ctx, j, i); err != nil {
			return 0, err
		}
		if rec.State == StepDone || rec.State == StepSkipped {
			continue
		}
		e.crash(step.ID, BeforeStart)
		if e.interrupted() {
			return 0, e.interrupt(j, step.ID, nil)
		}
		def, ok := stepByID(step.ID)
		if !ok {
			return 0, e.fail(j, step.ID, fmt.Errorf("this zupgrade does not know step %q; use the zupgrade that made the plan", step.ID))
		}
		sc := &stepContext{e: e, plan: j.Plan, step: step, journal: j, rec: rec}
		start := e.now()
		e.emit(progress.Event{Kind: progress.StepStarted, Time: start, Step: step.ID, Title: step.Title, N: i + 1, Of: total, Text: string(rec.State)})

		// Whatever the journal says, the host decides whether the step's
		// effect is there already: a crash may have struck after the
		// effect and before the journal said so.
		done, err := def.done(sc, ctx)
		var fell *TrialFailedError
		switch {
		case errors.As(err, &fell):
			return 0, e.trialFailed(ctx, j, step.ID, fell)
		case err != nil && errors.Is(err, errUndecided) && rec.State == StepStarted && !def.rerunnable():
			return 0, e.fail(j, step.ID, fmt.Errorf("the run stopped during this step and zupgrade %w (%s); check the host by hand, then run zupgrade apply again", err, step.Verify))
		case err != nil && !errors.Is(err, errUndecided):
			return 0, e.fail(j, step.ID, fmt.Errorf("checking whether it is done: %w", err))
		case done:
			rec.State = StepDone
			rec.Note = "already in effect on the host"
			t := e.now()
			rec.Finished = &t
			j.Status, j.Message = StatusRunning, ""
			if err := e.save(j); err != nil {
				return 0, err
			}
			e.emit(progress.Event{Kind: progress.StepSkipped, Time: t, Step: step.ID, Text: rec.Note})
			continue
		}
		if step.Checkpoint && rec.State == StepStarted && e.Resume {
			return 0, e.fail(j, step.ID, fmt.Errorf("after the reboot, the host does not show what the checkpoint expects (%s); the new system may not have booted: inspect it, and zupgrade rollback returns to the backup boot environment", step.Verify))
		}

		rec.State = StepStarted
		rec.Note = ""
		rec.Attempts++
		t := e.now()
		rec.Started = &t
		j.Status, j.Message = StatusRunning, ""
		if err := e.save(j); err != nil {
			return 0, err
		}
		e.crash(step.ID, AfterStarted)

		if cp, ok := def.(checkpointDef); ok {
			return e.checkpoint(ctx, cp, sc, j)
		}
		if err := def.run(sc, ctx); err != nil {
			return 0, e.fail(j, step.ID, err)
		}
		e.crash(step.ID, AfterRun)
		// A note the step's run made stays (what it found).
		rec.State = StepDone
		t = e.now()
		rec.Finished = &t
		if err := e.save(j); err != nil {
			return 0, err
		}
		e.emit(progress.Event{Kind: progress.StepDone, Time: t, Step: step.ID, Elapsed: t.Sub(start)})
	}
	if err := e.finish(ctx, j); err != nil {
		return 0, err
	}
	return Finished, nil
}

// checkpoint arms the boot hook and reboots, or stops.
func (e *Engine) checkpoint(ctx context.Context, cp checkpointDef, sc *stepContext, j *Journal) (Outcome, error) {
	if err := cp.arm(sc, ctx); err != nil {
		return 0, e.fail(j, sc.step.ID, err)
	}
	if e.NoReboot || j.NoReboot {
		j.Status, j.Message = StatusCheckpoint, "reboot the host, then run zupgrade apply (the boot hook does it by itself)"
		if err := e.save(j); err != nil {
			return 0, err
		}
		e.emit(progress.Event{Kind: progress.Checkpoint, Step: sc.step.ID, Text: j.Message})
		return Stopped, nil
	}
	j.Status, j.Message = StatusRebooting, "rebooting; the boot hook resumes the run"
	if err := e.save(j); err != nil {
		return 0, err
	}
	e.emit(progress.Event{Kind: progress.Checkpoint, Step: sc.step.ID, Text: j.Message})
	if err := cp.reboot(sc, ctx); err != nil {
		return 0, e.fail(j, sc.step.ID, err)
	}
	return Rebooting, nil
}

// StepFinish names the end of a run (removing the boot hook) in the run
// log and at its crash points: before it and after its commands.
const StepFinish = "finish"

// finish removes the boot hook and marks the run done.
func (e *Engine) finish(ctx context.Context, j *Journal) error {
	e.crash(StepFinish, BeforeStart)
	sc := &stepContext{e: e, plan: j.Plan, step: Step{ID: StepFinish}, journal: j}
	for _, c := range e.unhook(ctx, &j.Plan.Facts) {
		if _, err := sc.run(ctx, c); err != nil {
			return e.fail(j, StepFinish, err)
		}
	}
	e.crash(StepFinish, AfterRun)
	j.Status, j.Message = StatusDone, ""
	return e.save(j)
}

func (e *Engine) save(j *Journal) error {
	j.Updated = e.now()
	return e.Store.Save(j)
}

// fail records a failed step and returns the error to report; a step that
// failed once the run was interrupted leaves the run interrupted.
func (e *Engine) fail(j *Journal, step string, err error) error {
	if e.interrupted() {
		return e.interrupt(j, step, err)
	}
	j.Status = StatusFailed
	j.Message = fmt.Sprintf("step %s: %v", step, err)
	e.emit(progress.Event{Kind: progress.StepFailed, Step: step, Text: err.Error()})
	if serr := e.save(j); serr != nil {
		return fmt.Errorf("%w (and the journal could not be saved: %v)", &StepError{Step: step, Err: err}, serr)
	}
	return &StepError{Step: step, Err: err}
}

// trialFailed ends a staged run whose trial failed, in the old boot
// environment that came back: its boot hook goes (it would report the
// same at every boot) and the journal says why.
func (e *Engine) trialFailed(ctx context.Context, j *Journal, step string, tf *TrialFailedError) error {
	sc := &stepContext{e: e, plan: j.Plan, step: Step{ID: step}, journal: j}
	for _, c := range e.unhook(ctx, &j.Plan.Facts) {
		if _, err := sc.run(ctx, c); err != nil {
			sc.note("removing the boot hook: %v", err)
		}
	}
	j.Status, j.Message, j.FellBack = StatusFailed, tf.Error(), true
	e.emit(progress.Event{Kind: progress.StepFailed, Step: step, Text: j.Message})
	if err := e.save(j); err != nil {
		return fmt.Errorf("%w (and the journal could not be saved: %v)", &StepError{Step: step, Err: tf}, err)
	}
	return &StepError{Step: step, Err: tf}
}

// stepContext is what an action sees.
type stepContext struct {
	e       *Engine
	plan    *Plan
	step    Step
	journal *Journal
	// rec is the step's journal record; only checkpoints consult it (a
	// reboot has happened only if the checkpoint started one).
	rec *StepRecord
	// noted are the disks already reported as gone from the pool.
	noted map[string]bool
}

// run runs one command of the plan, streaming its output with a prefix.
// A command that exits non-zero is an error carrying its last lines.
func (sc *stepContext) run(ctx context.Context, c Cmd) (host.Result, error) {
	res, err := sc.exec(ctx, c, nil)
	if err != nil {
		return res, err
	}
	if !res.OK() {
		return res, &host.ExitError{Line: host.QuoteArgs(c.Args), ExitCode: res.ExitCode, Stderr: string(res.Stderr) + string(res.Stdout)}
	}
	return res, nil
}

// exec runs c; stall, when set, is called for every output line, and a
// true answer stops the command (it waits for something that will never
// come, such as a terminal).
func (sc *stepContext) exec(ctx context.Context, c Cmd, stall func(string) bool) (host.Result, error) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	step := sc.step.ID
	w := &progress.Lines{
		Emit: func(ev progress.Event) { ev.Step = step; sc.e.emit(ev) },
		Now:  sc.e.now,
	}
	if stall != nil {
		w.Watch = func(line string) bool {
			if stall(line) {
				cancel()
				return true
			}
			return false
		}
	}
	start := sc.e.now()
	hc := c.Op.Command()
	hc.Output = w
	if hc.Dialog != nil {
		hc.Dialog = opDialog(c.Op, sc.plan.Options.Yes)
	}
	sc.e.emit(progress.Event{Kind: progress.CommandStarted, Time: start, Step: step, Argv: hc.Args, Env: hc.Env})
	res, err := sc.e.Runner.Run(cctx, hc)
	w.Flush()
	end := sc.e.now()
	sc.e.emit(progress.Event{Kind: progress.CommandEnded, Time: end, Step: step, Argv: hc.Args, Env: hc.Env, Exit: res.ExitCode,
		Elapsed: end.Sub(start), Stdout: res.Stdout, Stderr: res.Stderr, Text: errString(err)})
	if line := w.Stalled(); line != "" {
		return res, &stallError{line: line}
	}
	return res, err
}

// note tells the admin something the step decided.
func (sc *stepContext) note(format string, args ...any) {
	sc.e.emit(progress.Event{Kind: progress.Note, Step: sc.step.ID, Text: fmt.Sprintf(format, args...)})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// probe runs a read-only command quietly.
func (sc *stepContext) probe(ctx context.Context, args ...string) (host.Result, error) {
	return sc.e.Runner.Run(ctx, host.Command{Args: args})
}

type stallError struct{ line string }

func (e *stallError) Error() string {
	return fmt.Sprintf("stopped: the command waits for an answer no one will give (%q)", e.line)
}
