// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/bootenv"
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
	// The boot hook must not resume the run in the old system (nor does
	// it resume a rolled-back run).
	_ = run("sysrc", "-f", "/etc/rc.conf.d/zupgrade", "-x", "zupgrade_enable")
	_ = run("sysrc", "-x", "zupgrade_enable")
	j.Status, j.Message = steps.StatusRolledBack, "rolled back to boot environment "+name+"; the next zupgrade apply starts a new run"
	if err := store.Save(j); err != nil {
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
