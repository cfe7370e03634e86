// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
	"github.com/zupgrade/zupgrade/steps"
)

func rollbackCommand(g *globalOptions, env Env, logger *log.Logger) *cli.Command {
	var noReboot, force, yes, asJSON bool
	return &cli.Command{
		Name:      "rollback",
		Usage:     "activate the backup boot environment made at the start of the run, and reboot",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-reboot", Usage: "activate it but do not reboot (exit 3)", Destination: &noReboot},
			&cli.BoolFlag{Name: "force", Usage: "roll back even after the run upgraded pool features (the backup may then not boot)", Destination: &force},
			&cli.BoolFlag{Name: "yes", Usage: "do not ask on a terminal before activating the backup", Destination: &yes},
			&cli.BoolFlag{Name: "json", Usage: "print what rollback does as JSON Lines, one event a line", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			out := newRunOutput(env, asJSON, logger)
			return out.end(runRollback(c.Context, g, noReboot, force, yes, env, logger, out))
		},
	}
}

func runRollback(ctx context.Context, g *globalOptions, noReboot, force, yes bool, env Env, logger *log.Logger, out *runOutput) error {
	env.stop.hold()
	store := stateStore(ctx, g, env)
	j, unlock, err := lockJournal(store)
	if err != nil {
		return err
	}
	defer unlock()
	if j == nil {
		return usageErrorf("no zupgrade run to roll back (state directory %s)", g.StateDir)
	}
	if j.Plan.Mode == steps.ModeFinalize {
		return fmt.Errorf("the last run is zupgrade finalize, which is one-way: it made no backup, and the boot environments before it no longer boot")
	}
	if j.Plan.Staged != nil {
		return rollbackStaged(ctx, store, j, noReboot, yes, env, logger, out)
	}
	backup, ok := j.Plan.Backup()
	if r := j.Record(steps.StepBackup); !ok || r == nil || r.State != steps.StepDone {
		return fmt.Errorf("the run made no backup yet, so there is nothing to roll back to: the host was not changed by zupgrade")
	}
	if r := j.Record(steps.StepZpoolUpgrade); r != nil && r.Attempts > 0 && !force {
		// The backup's kernel predates the features the run enabled: it
		// could not import the pool, and the host would not boot.
		return fmt.Errorf("the run has upgraded the features of pool %s (step zpool-upgrade), which the backup's older kernel cannot import: booting it would fail. Rolling back is no longer safe; --force does it anyway", j.Plan.Facts.BootPool)
	}
	// A command that a killed run left running (freebsd-update install)
	// is stopped before the backup is activated beside it.
	children, r, err := openChildren(store.Dir, env.runner(), out)
	if err != nil {
		return err
	}
	defer children.Close()
	name := backup.Name
	if backup.Dataset != "" {
		text, err := bootenv.SnapshotRollbackInstructions(backup.Dataset, name)
		if err != nil {
			return err
		}
		if out.json {
			out.emit(progress.Event{Kind: progress.Note, Text: text})
		} else {
			fprintf(env.Stdout, "%s\n", text)
		}
		return fmt.Errorf("this host has no boot environments: roll back by hand as shown above")
	}
	run := func(args ...string) error { return out.run(ctx, r, args...) }
	args, err := bootenv.ActivateArgs(name, false)
	if err != nil {
		return err
	}
	if env.stop.Stopped() {
		return mark(ErrInterrupted, errors.New("interrupted before the backup was activated: nothing was changed"))
	}
	if asks(env, yes) {
		then := "reboot into it"
		if noReboot {
			then = "leave the reboot to you"
		}
		if err := confirm(questionEnv(env, out.json), fmt.Sprintf("Activate boot environment %s (the backup of run %s), turn the boot hook off and %s?", name, j.RunID, then)); err != nil {
			return err
		}
	}
	if err := run(args...); err != nil {
		return err
	}
	if err := rolledBack(ctx, r, store, j, name, run); err != nil {
		return err
	}
	logger.Info("boot environment activated", "name", name)
	out.emit(progress.Event{Kind: progress.Note, Text: "boot environment " + name + " activated"})
	if noReboot {
		return mark(ErrCheckpoint, fmt.Errorf("reboot to return to %s", name))
	}
	if env.stop.Stopped() {
		return mark(ErrInterrupted, fmt.Errorf("interrupted before the reboot: %s is active; reboot to return to it", name))
	}
	return run("shutdown", "-r", "now")
}

// rolledBack turns the boot hook off, which must not resume the run in
// the system rollback returns to (nor does it resume a rolled-back run),
// and records the run as rolled back to boot environment name. It
// removes zupgrade_enable from /etc/rc.conf.d/zupgrade (where the run
// set it) and /etc/rc.conf (where earlier zupgrade versions did) only
// where it is set: sysrc -x of a variable set nowhere fails with
// "unknown variable", -i or not (usr.sbin/sysrc/sysrc), as it would in a
// rollback run again after an earlier one turned the hook off. A removal
// that fails all the same does not stop the rollback: the hook turns
// itself off at boot once the run is rolled back.
func rolledBack(ctx context.Context, r host.Runner, store steps.Store, j *steps.Journal, name string, run func(args ...string) error) error {
	for _, file := range [][]string{{"-f", "/etc/rc.conf.d/zupgrade"}, nil} {
		probe := append(append([]string{"sysrc"}, file...), "-n", "zupgrade_enable")
		if res, err := r.Run(ctx, host.Command{Args: probe}); err != nil || !res.OK() {
			continue
		}
		_ = run(append(append([]string{"sysrc"}, file...), "-x", "zupgrade_enable")...)
	}
	j.Status, j.Message = steps.StatusRolledBack, "rolled back to boot environment "+name+"; the next zupgrade apply starts a new run"
	return store.Save(j)
}

// rollbackStaged rolls a staged run back to the boot environment it
// upgraded from, which is its backup: running the new boot environment
// (on trial, or kept), rollback activates the old one for good and
// reboots into it; running the old one (before the trial reboot, or back
// after a failed trial), it takes back the new one's one-time activation
// and unmounts it where the run left it mounted, and the host runs on
// without a reboot. The new boot environment is kept either way.
func rollbackStaged(ctx context.Context, store steps.Store, j *steps.Journal, noReboot, yes bool, env Env, logger *log.Logger, out *runOutput) error {
	s := j.Plan.Staged
	children, r, err := openChildren(store.Dir, env.runner(), out)
	if err != nil {
		return err
	}
	defer children.Close()
	running := path.Base(store.BootEnv)
	cmds, made, err := stagedRollbackCommands(ctx, r, s, running)
	if err != nil {
		return err
	}
	kept := fmt.Sprintf("%s is kept (bectl destroy %s removes it)", s.BootEnv, s.BootEnv)
	if !made {
		kept = "the run had not made " + s.BootEnv + " yet"
	}
	reboot := running == s.BootEnv
	if env.stop.Stopped() {
		return mark(ErrInterrupted, errors.New("interrupted before the rollback started: nothing was changed"))
	}
	if asks(env, yes) {
		then := "stay on it (it runs already)"
		switch {
		case reboot && noReboot:
			then = "leave the reboot to you"
		case reboot:
			then = "reboot into it"
		}
		if err := confirm(questionEnv(env, out.json), fmt.Sprintf("Return to boot environment %s (the one run %s upgraded from), turn the boot hook off and %s? %s.", s.Running, j.RunID, then, kept)); err != nil {
			return err
		}
	}
	run := func(args ...string) error { return out.run(ctx, r, args...) }
	for _, c := range cmds {
		if err := run(c...); err != nil {
			return err
		}
	}
	if err := rolledBack(ctx, r, store, j, s.Running, run); err != nil {
		return err
	}
	say := func(text string) {
		logger.Info(text)
		out.emit(progress.Event{Kind: progress.Note, Text: text})
	}
	if !reboot {
		say(fmt.Sprintf("rolled back: the host runs %s, which boots next; %s", s.Running, kept))
		return nil
	}
	say(fmt.Sprintf("boot environment %s activated; %s is kept (bectl destroy %s removes it once %s runs)", s.Running, s.BootEnv, s.BootEnv, s.Running))
	if noReboot {
		return mark(ErrCheckpoint, fmt.Errorf("reboot to return to %s", s.Running))
	}
	if env.stop.Stopped() {
		return mark(ErrInterrupted, fmt.Errorf("interrupted before the reboot: %s is active; reboot to return to it", s.Running))
	}
	return run("shutdown", "-r", "now")
}

// stagedRollbackCommands returns the commands that make the boot
// environment a staged run upgraded from (s.Running) the one that boots,
// as bectl list shows the host now. In the new boot environment that is
// bectl activate of the old one: after the commit it is a clone of the
// new one, which be_activate promotes back (lib/libbe/be.c). In the old
// boot environment, a one-time activation of the new one is removed
// (bectl activate -T) and the new one unmounted (a devfs inside it
// first: bectl umount refuses a boot environment with a file system
// mounted inside it, lib/libbe/be_access.c be_unmount). made says whether
// the new boot environment exists.
func stagedRollbackCommands(ctx context.Context, r host.Runner, s *steps.Staged, running string) (cmds [][]string, made bool, err error) {
	switch running {
	case s.BootEnv:
		args, err := bootenv.ActivateArgs(s.Running, false)
		return [][]string{args}, true, err
	case s.Running:
	default:
		return nil, false, fmt.Errorf("the host runs boot environment %q, neither %s (the run's new one) nor %s (the one it upgraded from): activate the one to boot by hand (bectl activate NAME)", running, s.BootEnv, s.Running)
	}
	out, err := host.Output(ctx, r, bootenv.ListArgs()...)
	if err != nil {
		return nil, false, err
	}
	bes, err := bootenv.ParseList(bootenv.ListCommand, out)
	if err != nil {
		return nil, false, err
	}
	be, made := bootenv.Find(bes, s.BootEnv)
	if made && be.Temporary {
		cmds = append(cmds, bootenv.RemoveTemporaryArgs())
	}
	if old, ok := bootenv.Find(bes, s.Running); ok && !old.ActiveOnReboot {
		args, err := bootenv.ActivateArgs(s.Running, false)
		if err != nil {
			return nil, false, err
		}
		cmds = append(cmds, args)
	}
	if made && be.Mountpoint != "" {
		dev := path.Join(be.Mountpoint, "dev")
		if mounts, err := host.Output(ctx, r, "mount"); err == nil && strings.Contains(string(mounts), " on "+dev+" (devfs") {
			cmds = append(cmds, []string{"umount", dev})
		}
		cmds = append(cmds, []string{bootenv.Program, "umount", s.BootEnv})
	}
	return cmds, made, nil
}
