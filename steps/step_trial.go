// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/zupgrade/zupgrade/host"
)

// The end of a staged upgrade: one reboot into the new boot environment,
// on trial; health checks there; the boot environment kept for good when
// they pass. When the trial fails, the boot after it is the old boot
// environment's (the one-time activation is spent), whose boot hook
// resumes the run to say why.

// TrialFailedError is a staged upgrade's trial that failed: the host runs
// the old boot environment again. Its text is the journal's message.
type TrialFailedError struct {
	BootEnv string
	Why     string
}

func (e *TrialFailedError) Error() string {
	return fmt.Sprintf("trial of %s failed: %s", e.BootEnv, e.Why)
}

// runningBootEnv is the name of the boot environment the host runs
// (kenv vfs.root.mountfrom), "" when it cannot tell.
func (sc *stepContext) runningBootEnv(ctx context.Context) string {
	res, err := sc.probe(ctx, "kenv", "-q", "vfs.root.mountfrom")
	if err != nil || !res.OK() {
		return ""
	}
	ds, ok := strings.CutPrefix(strings.TrimSpace(string(res.Stdout)), "zfs:")
	if !ok {
		return ""
	}
	return path.Base(ds)
}

// fellBack reports, in the old boot environment after the trial, why the
// trial failed: the reason the trial's health checks recorded, else that
// the trial never reached them.
func (sc *stepContext) fellBack(ctx context.Context) error {
	s := sc.plan.Staged
	if sc.runningBootEnv(ctx) != s.Running {
		return nil
	}
	why := "the trial boot never reached zupgrade's health checks: its kernel panicked or hung, it could not mount its root, or its loader stopped (see the console); the one-time activation was spent, so this boot is " + s.Running + "'s"
	switch r := sc.journal.Record(StepTrialHealth); {
	case r != nil && r.State == StepDone:
		why = "it passed its health checks, but the host went down before zupgrade kept it (a power cut, a reset); the one-time activation was spent, so this boot is " + s.Running + "'s"
	case r != nil && r.Note != "":
		why = r.Note
	}
	return &TrialFailedError{BootEnv: s.BootEnv, Why: why + "; " + s.Running + " runs as before; " + s.BootEnv + " is kept for inspection (bectl mount " + s.BootEnv + ")"}
}

// trialRebootStep reboots into the new boot environment, on trial.
type trialRebootStep struct{}

func (trialRebootStep) id() string       { return StepRebootTrial }
func (trialRebootStep) rerunnable() bool { return false }

func (trialRebootStep) plan(b builder) Step {
	return Step{ID: StepRebootTrial, Title: "Reboot into " + b.staged.BootEnv + " on trial", Checkpoint: true,
		Commands: []Cmd{cmdFor(&Reboot{}, Cond{})},
		Verify:   Verification{Check: VerifyTrialRunning, Name: b.staged.BootEnv, Release: b.t.to.String()},
		Notes:    []string{"the only reboot; after boot the rc.d hook of " + b.staged.BootEnv + " runs " + hookBinary + " apply --resume; with --no-reboot apply stops here with exit 3"}}
}

// done: the host runs the new boot environment, however it came to boot
// it (a power cut after the one-time activation boots it too); back in
// the old one after the reboot, the trial failed.
func (trialRebootStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	if sc.runningBootEnv(ctx) == sc.plan.Staged.BootEnv {
		return sc.newKernelRunning(ctx)
	}
	if !sc.rebooted(ctx) {
		return false, nil
	}
	return false, sc.fellBack(ctx)
}

func (trialRebootStep) run(*stepContext, context.Context) error {
	return errors.New("a reboot checkpoint is armed and rebooted, not run")
}

// arm records the boot time; the boot hook was armed before the boot
// environment was made (stage-hook).
func (trialRebootStep) arm(sc *stepContext, ctx context.Context) error {
	sc.rec.BootTime = sc.bootTime(ctx)
	return nil
}

func (trialRebootStep) reboot(sc *stepContext, ctx context.Context) error { return sc.runCommands(ctx) }

// trialHealthStep checks the trial boot: kernel and world of the target,
// every service enabled in rc.conf running, the boot pool healthy, the
// admin's --health-cmd passing. With --auto-revert a failure reboots into
// the old boot environment at once.
type trialHealthStep struct{}

func (trialHealthStep) id() string       { return StepTrialHealth }
func (trialHealthStep) rerunnable() bool { return true }

func (trialHealthStep) plan(b builder) Step {
	s := Step{ID: StepTrialHealth, Title: "Check the health of " + b.staged.BootEnv,
		Verify: Verification{Check: VerifyHealthy, Name: b.staged.BootEnv, Release: b.t.to.String()}}
	if len(b.opts.HealthCmd) > 0 {
		s.Commands = append(s.Commands, cmdFor(&HealthCommand{Args: b.opts.HealthCmd}, Cond{}))
	}
	if b.opts.AutoRevert {
		s.Commands = append(s.Commands, cmdFor(&Reboot{}, Cond{If: CondTrialUnhealthy}))
		s.Notes = append(s.Notes, "--auto-revert: when a check fails, zupgrade reboots into "+b.staged.Running+" at once")
	} else {
		s.Notes = append(s.Notes, "when a check fails the run stops in "+b.staged.BootEnv+", which is not kept: the next reboot (the admin's, a watchdog's) returns to "+b.staged.Running)
	}
	return s
}

// done: in the old boot environment, the trial is over and failed; in
// the new one the checks always run.
func (trialHealthStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return false, sc.fellBack(ctx)
}

func (trialHealthStep) run(sc *stepContext, ctx context.Context) error {
	armed, deadline := sc.trialArmed(ctx)
	why, err := sc.unhealthy(ctx)
	if err != nil {
		return err
	}
	if why == "" {
		if deadline != "" {
			sc.rec.Note = deadline
			sc.note("%s", deadline)
		}
		return nil
	}
	sc.rec.Note = why
	tf := &TrialFailedError{BootEnv: sc.plan.Staged.BootEnv, Why: why}
	for _, c := range sc.step.Commands {
		if c.When.If != CondTrialUnhealthy {
			continue
		}
		sc.journal.Status, sc.journal.Message = StatusFailed, fmt.Sprintf("step %s: %v; rebooting into %s (--auto-revert)", sc.step.ID, tf, sc.plan.Staged.Running)
		if err := sc.e.save(sc.journal); err != nil {
			return err
		}
		sc.note("%v: rebooting into %s (--auto-revert)", tf, sc.plan.Staged.Running)
		if _, err := sc.run(ctx, c); err != nil {
			return fmt.Errorf("%v; the reboot into %s failed: %w", tf, sc.plan.Staged.Running, err)
		}
	}
	err = fmt.Errorf("%w; %s is not kept: reboot to return to %s", tf, sc.plan.Staged.BootEnv, sc.plan.Staged.Running)
	switch d := sc.plan.Options.trialDeadline(); {
	case d > 0 && armed:
		err = fmt.Errorf("%w (%s: it resets the host by itself %s after the boot; watchdog -t 0 stops it, to look around first)", err, deadline, time.Duration(d)*time.Second)
	case d > 0:
		err = fmt.Errorf("%w (%s)", err, deadline)
	}
	return err
}

// trialArmed says whether the watchdog took the trial's deadline at the
// trial boot, from what the deadline's rc.d script left
// (zupgrade_trial_armed in its rc.conf.d file: YES when watchdog -t
// succeeded), and in words for the journal ("" when the plan armed no
// deadline).
func (sc *stepContext) trialArmed(ctx context.Context) (armed bool, words string) {
	d := sc.plan.Options.trialDeadline()
	if d == 0 {
		return false, ""
	}
	res, err := sc.probe(ctx, "sysrc", "-f", trialRCConf, "-n", "zupgrade_trial_armed")
	if err == nil && res.OK() && strings.TrimSpace(string(res.Stdout)) == "YES" {
		return true, fmt.Sprintf("the watchdog took the trial's deadline of %s at its boot", time.Duration(d)*time.Second)
	}
	return false, "no watchdog took the trial's deadline at its boot (watchdog -t failed there, or never ran): a trial that hangs waits for a reset by hand"
}

// unhealthy runs the health checks and says what failed ("" when none).
func (sc *stepContext) unhealthy(ctx context.Context) (string, error) {
	v, err := sc.versions(ctx)
	if err != nil {
		return "", err
	}
	if !sc.isTarget(v.Kernel) || !sc.isTarget(v.Running) || !sc.isTarget(v.Userland) {
		return fmt.Sprintf("freebsd-version -kru shows kernel %s, running %s, world %s, not %s", v.Kernel, v.Running, v.Userland, sc.plan.To), nil
	}
	if why, err := sc.servicesDown(ctx); err != nil || why != "" {
		return why, err
	}
	pool := sc.plan.Facts.BootPool
	out, err := host.Output(ctx, sc.e.Runner, "zpool", "list", "-H", "-o", "health", pool)
	if err != nil {
		return "", err
	}
	if h := strings.TrimSpace(string(out)); h != "ONLINE" {
		return fmt.Sprintf("the boot pool %s is %s (zpool status %s)", pool, h, pool), nil
	}
	for _, c := range sc.step.Commands {
		if _, ok := c.Op.(*HealthCommand); !ok {
			continue
		}
		res, err := sc.exec(ctx, c, nil)
		if err != nil {
			return "", err
		}
		if !res.OK() {
			return fmt.Sprintf("the health command %q exited %d: %s", host.QuoteArgs(c.Args), res.ExitCode, orNoOutput(lastLine(res.Stderr, res.Stdout))), nil
		}
	}
	return "", nil
}

// servicesDown checks every rc script service -e lists with its status
// command. rc.subr's status prints "NAME is not running." and exits 1 for
// a daemon that does not run (etc/rc.subr run_rc_command, status);
// scripts without a daemon have no status command, and are passed over.
func (sc *stepContext) servicesDown(ctx context.Context) (string, error) {
	out, err := host.Output(ctx, sc.e.Runner, "service", "-e")
	if err != nil {
		return "", err
	}
	var down []string
	for _, script := range strings.Fields(string(out)) {
		name := path.Base(script)
		res, err := sc.probe(ctx, "service", name, "status")
		if err != nil {
			return "", err
		}
		if !res.OK() && strings.Contains(string(res.Stdout)+string(res.Stderr), "is not running") {
			down = append(down, name)
		}
	}
	if len(down) > 0 {
		return "enabled services not running: " + strings.Join(down, ", ") + " (service NAME status)", nil
	}
	return "", nil
}

// commitStep keeps the new boot environment for good.
type commitStep struct{}

func (commitStep) id() string       { return StepCommitBootEnv }
func (commitStep) rerunnable() bool { return true }

func (commitStep) plan(b builder) Step {
	return Step{ID: StepCommitBootEnv, Title: "Keep " + b.staged.BootEnv + " for good (bectl activate)",
		Commands: append(disarmCommands(b), cmdFor(&ActivateBootEnv{Name: b.staged.BootEnv}, Cond{})),
		Verify:   Verification{Check: VerifyCommitted, Name: b.staged.BootEnv},
		Notes: []string{b.staged.Running + " stays as a boot environment to go back to (bectl activate " + b.staged.Running + ")",
			"the pool's one-way steps (zpool upgrade, zfs upgrade) are not part of this run: zupgrade finalize does them later, once " + b.staged.Running + " is no longer needed"}}
}

// done: kept for good; back in the old boot environment before that, the
// trial is over without being kept (the host went down after the health
// checks), and the new one is not kept from there.
func (commitStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	if err := sc.fellBack(ctx); err != nil {
		return false, err
	}
	be, ok, err := sc.stagedBootEnv(ctx)
	return ok && be.ActiveNow && be.ActiveOnReboot && !be.Temporary, err
}

// run turns the trial's watchdog off before it keeps the boot
// environment; a watchdog that cannot be reached (no /dev/fido) armed
// nothing, and is noted.
func (commitStep) run(sc *stepContext, ctx context.Context) error {
	for _, c := range sc.step.Commands {
		_, err := sc.run(ctx, c)
		if _, ok := c.Op.(*Watchdog); ok && err != nil {
			sc.note("turning the trial's watchdog off: %v", err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// orNoOutput is s, or says that there was no output.
func orNoOutput(s string) string {
	if s == "" {
		return "no output"
	}
	return s
}
