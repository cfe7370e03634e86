// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
)

// rebootStep is a reboot checkpoint: into the new kernel, or (final) the
// last reboot of an upgrade and the one after patches that changed the
// kernel.
type rebootStep struct{ final bool }

func (r rebootStep) id() string {
	if r.final {
		return StepRebootFinal
	}
	return StepRebootKernel
}

// rerunnable: a checkpoint is never run twice blindly; after a reboot its
// done check decides.
func (rebootStep) rerunnable() bool { return false }

func (r rebootStep) plan(b builder) Step {
	to := b.targetName()
	switch {
	case !r.final:
		return b.reboot(StepRebootKernel, "Reboot into the new kernel", Verification{Check: VerifyKernelRunning, Release: to})
	case b.t.mode == "patch":
		s := b.reboot(StepRebootFinal, "Reboot if the kernel changed", Verification{Check: VerifyKernelMatches})
		s.Notes = append(s.Notes, "skipped when the patches did not touch the kernel")
		return s
	}
	return b.reboot(StepRebootFinal, "Final reboot and verification", Verification{Check: VerifyFinal, Release: to})
}

func (r rebootStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	if r.final {
		return sc.finalStateReached(ctx)
	}
	return sc.newKernelRunning(ctx)
}

// run is never called: the engine arms a checkpoint and reboots it.
func (rebootStep) run(*stepContext, context.Context) error {
	return errors.New("a reboot checkpoint is armed and rebooted, not run")
}

// arm writes the boot hook, copies zupgrade where the hook runs it,
// installs (unless a package did) and enables the hook, and records the
// boot time (a new one later proves the reboot).
func (rebootStep) arm(sc *stepContext, ctx context.Context) error {
	logDir := sc.plan.Options.LogDir
	if logDir == "" { // a plan from before --log-dir
		logDir = LogDirFor(sc.e.Store.Dir)
	}
	if err := writeHook(sc.e.Store, logDir); err != nil {
		return fmt.Errorf("write the boot hook: %w", err)
	}
	if err := sc.installBinary(ctx); err != nil {
		return err
	}
	packaged := sc.e.hookPackaged(ctx)
	for _, c := range sc.step.Commands {
		if _, ok := c.Op.(*Reboot); ok {
			continue
		}
		if c.When.If == CondHookUnpackaged && packaged {
			continue
		}
		if _, err := sc.run(ctx, c); err != nil {
			return err
		}
	}
	sc.rec.BootTime = sc.bootTime(ctx)
	return nil
}

// reboot runs the step's reboot.
func (rebootStep) reboot(sc *stepContext, ctx context.Context) error {
	for _, c := range sc.step.Commands {
		if _, ok := c.Op.(*Reboot); !ok {
			continue
		}
		if _, err := sc.run(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// reboot plans a reboot checkpoint.
func (b builder) reboot(id, title string, verify Verification) Step {
	return Step{ID: id, Title: title, Checkpoint: true, Verify: verify,
		Commands: append(hookCommands(b.f, b.opts.StateDir, b.opts.LogDir), cmdFor(&Reboot{}, Cond{})),
		Notes: []string{"zupgrade copies itself to " + hookBinary + " first (mkdir -p, install -m 0555) unless that file is the running zupgrade already",
			"after boot, the rc.d hook runs " + hookBinary + " apply --resume; with --no-reboot apply stops here with exit 3"}}
}

// sysrcSince is the first release with sysrc(8) in the base system.
var sysrcSince = freebsdupdate.MustParseRelease("9.2-RELEASE")

// hasSysrc reports whether the host's userland has sysrc(8).
func hasSysrc(f *facts.Facts) bool {
	u, err := freebsdupdate.ParseRelease(f.Release.Userland)
	return err != nil || !u.Before(sysrcSince)
}

// hookCommands install the boot hook unless a package did, and enable it
// for this run in /etc/rc.conf.d/zupgrade: with sysrc -f where the system
// has sysrc, else by installing the whole file; rc.subr's load_rc_config
// reads /etc/rc.conf.d/NAME on every release zupgrade knows.
func hookCommands(f *facts.Facts, stateDir, logDir string) []Cmd {
	cs := []Cmd{
		cmdFor(&InstallFile{Source: path.Join(stateDir, "rc.d", "zupgrade"), Target: rcScript, Mode: "0555"}, Cond{If: CondHookUnpackaged}),
		cmdFor(&MakeDir{Path: path.Dir(rcConfD)}, Cond{}),
	}
	if hasSysrc(f) {
		return append(cs, cmdFor(&Sysrc{File: rcConfD, Vars: []RCVar{
			{Name: "zupgrade_enable", Value: "YES"},
			{Name: "zupgrade_state_dir", Value: stateDir},
			{Name: "zupgrade_log_dir", Value: logDir},
		}}, Cond{}))
	}
	return append(cs, cmdFor(&InstallFile{Source: path.Join(stateDir, "rc.d", "zupgrade.conf"), Target: rcConfD, Mode: "0644"}, Cond{}))
}

// bootTime reads kern.boottime ("" when the host cannot tell).
func (sc *stepContext) bootTime(ctx context.Context) string {
	res, err := sc.probe(ctx, "sysctl", "-n", "kern.boottime")
	if err != nil || !res.OK() {
		return ""
	}
	return strings.TrimSpace(string(res.Stdout))
}

// rebooted reports whether the host rebooted since this checkpoint asked
// for it: the boot hook started this run (it runs only at boot), or the
// boot time changed since.
func (sc *stepContext) rebooted(ctx context.Context) bool {
	if sc.rec == nil || sc.rec.State != StepStarted {
		return false
	}
	if sc.e.Resume {
		return true
	}
	now := sc.bootTime(ctx)
	return now != "" && sc.rec.BootTime != "" && now != sc.rec.BootTime
}

func (sc *stepContext) newKernelRunning(ctx context.Context) (bool, error) {
	v, err := sc.versions(ctx)
	return err == nil && sc.isTarget(v.Running), err
}

// finalStateReached: after an upgrade, kernel, running kernel and world are
// the target and boot code is current everywhere; after patches, the
// running kernel is the installed one (no reboot needed).
func (sc *stepContext) finalStateReached(ctx context.Context) (bool, error) {
	v, err := sc.versions(ctx)
	if err != nil {
		return false, err
	}
	if sc.plan.Mode == "patch" {
		return v.Running == v.Kernel, nil
	}
	if !sc.rebooted(ctx) {
		// The final reboot restarts every service on the new world and
		// packages; it is done only once it happened.
		return false, nil
	}
	if !sc.isTarget(v.Kernel) || !sc.isTarget(v.Running) || !sc.isTarget(v.Userland) {
		return false, nil
	}
	return sc.bootcodeCurrent(ctx)
}
