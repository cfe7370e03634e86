// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/log"

	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/host"
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
	// Out receives one status line per step and child output, prefixed.
	Out io.Writer
	// RunLog, when set, receives a structured record of every step and
	// every command with its whole output (the per-run JSON log).
	RunLog *log.Logger
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
	e.log("interrupted", "step", step)
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
	total := len(j.Plan.Steps)
	for i, step := range j.Plan.Steps {
		rec := &j.Steps[i]
		if rec.State == StepDone || rec.State == StepSkipped {
			continue
		}
		e.crash(step.ID, BeforeStart)
		if e.interrupted() {
			return 0, e.interrupt(j, step.ID, nil)
		}
		act, ok := actions[step.ID]
		if !ok {
			return 0, e.fail(j, step.ID, fmt.Errorf("this zupgrade does not know step %q; use the zupgrade that made the plan", step.ID))
		}
		sc := &stepContext{e: e, plan: j.Plan, step: step, journal: j, rec: rec}
		start := e.now()
		fmt.Fprintf(e.Out, "[%d/%d] %s (%s)\n", i+1, total, step.Title, step.ID)
		e.log("step", "step", step.ID, "n", i+1, "of", total, "title", step.Title, "state", rec.State)

		// Whatever the journal says, the host decides whether the step's
		// effect is there already: a crash may have struck after the
		// effect and before the journal said so.
		done, err := act.done(sc, ctx)
		switch {
		case err != nil && errors.Is(err, errUndecided) && rec.State == StepStarted && !act.rerunnable:
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
			fmt.Fprintf(e.Out, "      done already (%s)\n", rec.Note)
			e.log("step done", "step", step.ID, "already", true)
			continue
		}
		if step.Checkpoint && rec.State == StepStarted && e.Resume {
			return 0, e.fail(j, step.ID, fmt.Errorf("after the reboot, the host does not show what the checkpoint expects (%s); the new system may not have booted: inspect it, and zupgrade rollback returns to the backup boot environment", step.Verify))
		}

		rec.State = StepStarted
		rec.Attempts++
		t := e.now()
		rec.Started = &t
		j.Status, j.Message = StatusRunning, ""
		if err := e.save(j); err != nil {
			return 0, err
		}
		e.crash(step.ID, AfterStarted)

		if step.Checkpoint {
			return e.checkpoint(ctx, sc, j)
		}
		if err := act.run(sc, ctx); err != nil {
			return 0, e.fail(j, step.ID, err)
		}
		e.crash(step.ID, AfterRun)
		rec.State = StepDone
		rec.Note = ""
		t = e.now()
		rec.Finished = &t
		if err := e.save(j); err != nil {
			return 0, err
		}
		fmt.Fprintf(e.Out, "      done in %s\n", t.Sub(start).Round(time.Millisecond))
		e.log("step done", "step", step.ID, "elapsed", t.Sub(start).Round(time.Millisecond).String())
	}
	if err := e.finish(ctx, j); err != nil {
		return 0, err
	}
	return Finished, nil
}

// checkpoint installs the boot hook and reboots, or stops.
func (e *Engine) checkpoint(ctx context.Context, sc *stepContext, j *Journal) (Outcome, error) {
	var hook, reboot []Cmd
	for _, c := range sc.step.Commands {
		if len(c.Args) > 0 && c.Args[0] == "shutdown" {
			reboot = append(reboot, c)
		} else {
			hook = append(hook, c)
		}
	}
	logDir := j.Plan.Options.LogDir
	if logDir == "" { // a journal from before --log-dir
		logDir = LogDirFor(e.Store.Dir)
	}
	if err := writeHook(e.Store, logDir); err != nil {
		return 0, e.fail(j, sc.step.ID, fmt.Errorf("write the boot hook: %w", err))
	}
	if err := sc.installBinary(ctx); err != nil {
		return 0, e.fail(j, sc.step.ID, err)
	}
	packaged := e.hookPackaged(ctx)
	for _, c := range hook {
		if c.When == hookPackagedWhen && packaged {
			continue
		}
		if _, err := sc.run(ctx, c); err != nil {
			return 0, e.fail(j, sc.step.ID, err)
		}
	}
	sc.rec.BootTime = sc.bootTime(ctx)
	if e.NoReboot || j.NoReboot {
		j.Status, j.Message = StatusCheckpoint, "reboot the host, then run zupgrade apply (the boot hook does it by itself)"
		if err := e.save(j); err != nil {
			return 0, err
		}
		return Stopped, nil
	}
	j.Status, j.Message = StatusRebooting, "rebooting; the boot hook resumes the run"
	if err := e.save(j); err != nil {
		return 0, err
	}
	for _, c := range reboot {
		if _, err := sc.run(ctx, c); err != nil {
			return 0, e.fail(j, sc.step.ID, err)
		}
	}
	return Rebooting, nil
}

// finish removes the boot hook and marks the run done.
func (e *Engine) finish(ctx context.Context, j *Journal) error {
	sc := &stepContext{e: e, plan: j.Plan, journal: j}
	for _, c := range e.unhook(ctx, &j.Plan.Facts) {
		if _, err := sc.run(ctx, c); err != nil {
			return e.fail(j, "finish", err)
		}
	}
	j.Status, j.Message = StatusDone, ""
	return e.save(j)
}

// log writes to the run log, if there is one.
func (e *Engine) log(msg string, kv ...any) {
	if e.RunLog != nil {
		e.RunLog.Info(msg, kv...)
	}
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
	e.log("step failed", "step", step, "error", err.Error())
	if serr := e.save(j); serr != nil {
		return fmt.Errorf("%w (and the journal could not be saved: %v)", &StepError{Step: step, Err: err}, serr)
	}
	return &StepError{Step: step, Err: err}
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
	fmt.Fprintf(sc.e.Out, "      $ %s\n", host.QuoteArgs(c.Args))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &prefixWriter{out: sc.e.Out, prefix: "      | ", stall: stall, onStall: cancel}
	start := sc.e.now()
	hc := host.Command{Args: c.Args, Env: c.Env, Stdin: []byte(c.Stdin), Output: w}
	if c.Terminal {
		hc.Dialog = dialogFor(c.Args, sc.plan.Options.Yes)
	}
	res, err := sc.e.Runner.Run(cctx, hc)
	w.flush()
	sc.e.log("command", "step", sc.step.ID, "cmd", host.QuoteArgs(c.Args), "env", strings.Join(c.Env, " "), "exit", res.ExitCode,
		"elapsed", sc.e.now().Sub(start).Round(time.Millisecond).String(), "stdout", string(res.Stdout), "stderr", string(res.Stderr), "error", errString(err))
	if w.stalled != "" {
		return res, &stallError{line: w.stalled}
	}
	return res, err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sameBootEnv refuses to go on in a boot environment other than the one the
// run started in (its root dataset). freebsd-update makes a boot environment
// at every install (install_create_be; CreateBootEnv defaults to yes), so
// some are copies of the host taken mid-run, with the boot hook enabled and
// the journal of the run: booting one must not resume the run there. The boot
// hook then disables itself in that copy; the run itself is untouched.
func (e *Engine) sameBootEnv(ctx context.Context, j *Journal) error {
	want := j.Plan.Facts.RootDataset
	res, err := e.Runner.Run(ctx, host.Command{Args: []string{"kenv", "-q", "vfs.root.mountfrom"}})
	if want == "" || err != nil || !res.OK() {
		return nil
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(string(res.Stdout)), "zfs:")
	if !ok || got == want {
		return nil
	}
	msg := fmt.Sprintf("the host runs boot environment %s, but the run upgrades %s (a copy such as freebsd-update's boot environments holds the run's state too): not going on here; boot %s again to go on (bectl activate %s, reboot)", got, want, want, path.Base(want))
	if e.Resume {
		for _, c := range e.unhook(ctx, &j.Plan.Facts) {
			if _, err := e.Runner.Run(ctx, host.Command{Args: c.Args}); err != nil {
				return fmt.Errorf("%s; removing the boot hook from %s: %v", msg, got, err)
			}
		}
		msg += "; the boot hook is removed from " + got
	}
	return errors.New(msg)
}

// dialogFor is how zupgrade answers a program run on a terminal; yes is
// the admin's --yes.
func dialogFor(args []string, yes bool) host.Dialog {
	if len(args) > 0 && args[0] == freebsdupdate.Program {
		return freebsdupdate.UpgradeDialog(yes)
	}
	// Anything else: answer nothing, stop nothing.
	return func(string) (string, bool) { return "", false }
}

// probe runs a read-only command quietly.
func (sc *stepContext) probe(ctx context.Context, args ...string) (host.Result, error) {
	return sc.e.Runner.Run(ctx, host.Command{Args: args})
}

type stallError struct{ line string }

func (e *stallError) Error() string {
	return fmt.Sprintf("stopped: the command waits for an answer no one will give (%q)", e.line)
}

// prefixWriter copies output line by line with a prefix and watches for
// lines that mean the command stalled.
type prefixWriter struct {
	mu      sync.Mutex
	out     io.Writer
	prefix  string
	buf     bytes.Buffer
	stall   func(string) bool
	onStall func()
	stalled string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			break
		}
		w.line(strings.TrimRight(line, "\n"))
	}
	// A prompt has no newline: judge the pending text too.
	if pending := w.buf.String(); pending != "" && w.stall != nil && w.stalled == "" && w.stall(pending) {
		w.stalled = pending
		w.onStall()
	}
	return len(p), nil
}

func (w *prefixWriter) line(l string) {
	l = strings.TrimRight(l, "\r") // a terminal ends its lines with \r\n
	fmt.Fprintf(w.out, "%s%s\n", w.prefix, l)
	if w.stall != nil && w.stalled == "" && w.stall(l) {
		w.stalled = l
		w.onStall()
	}
}

func (w *prefixWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		fmt.Fprintf(w.out, "%s%s\n", w.prefix, w.buf.String())
		w.buf.Reset()
	}
}
