package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

func rollbackCommand(g *globalOptions, env Env, logger *log.Logger) *cli.Command {
	var noReboot bool
	return &cli.Command{
		Name:      "rollback",
		Usage:     "activate the backup boot environment made at the start of the run, and reboot",
		ArgsUsage: " ",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "no-reboot", Usage: "activate it but do not reboot (exit 3)", Destination: &noReboot}},
		Action: func(c *cli.Context) error {
			return runRollback(c.Context, g, noReboot, env, logger)
		},
	}
}

func runRollback(ctx context.Context, g *globalOptions, noReboot bool, env Env, logger *log.Logger) error {
	store := steps.Store{Dir: g.StateDir}
	j, unlock, err := lockJournal(store)
	if err != nil {
		return err
	}
	defer unlock()
	if j == nil {
		return usageErrorf("no zupgrade run to roll back (state directory %s)", g.StateDir)
	}
	var backup []string
	for _, s := range j.Plan.Steps {
		if s.ID == steps.StepBackup && len(s.Commands) > 0 {
			backup = s.Commands[0].Args
		}
	}
	if r := j.Record(steps.StepBackup); backup == nil || r == nil || r.State != steps.StepDone {
		return withCode(ExitFailed, fmt.Errorf("the run made no backup yet, so there is nothing to roll back to: the host was not changed by zupgrade"))
	}
	r := host.ExecRunner{Env: env.Environ}
	name := backup[len(backup)-1]
	if backup[0] != "bectl" {
		ds, snap, _ := strings.Cut(name, "@")
		text, err := bootenv.SnapshotRollbackInstructions(ds, snap)
		if err != nil {
			return err
		}
		fprintf(env.Stdout, "%s\n", text)
		return withCode(ExitFailed, fmt.Errorf("this host has no boot environments: roll back by hand as shown above"))
	}
	run := func(args ...string) error {
		_, err := host.Output(ctx, r, args...)
		return err
	}
	args, err := bootenv.ActivateArgs(name, false)
	if err != nil {
		return err
	}
	if err := run(args...); err != nil {
		return err
	}
	// The boot hook must not resume the run in the old system.
	_ = run("sysrc", "-x", "zupgrade_enable")
	j.Status, j.Message = steps.StatusRolledBack, "rolled back to boot environment "+name+"; the next zupgrade apply starts a new run"
	if err := store.Save(j); err != nil {
		return err
	}
	logger.Info("boot environment activated", "name", name)
	if noReboot {
		return withCode(ExitCheckpoint, fmt.Errorf("reboot to return to %s", name))
	}
	return run("shutdown", "-r", "now")
}
