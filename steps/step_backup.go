// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"path"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/host"
)

func (b builder) backupName() string {
	to := ""
	if b.t.mode == "upgrade" {
		to = b.t.to.String()
	}
	name, err := bootenv.BackupName(b.f.Release.Running, to, b.opts.Now)
	if err != nil {
		// The running release is validated by the target check; a name
		// that cannot be made is reported by that check's block.
		return "zupgrade-backup-" + b.opts.Now.UTC().Format("20060102T150405")
	}
	return name
}

// backupStep makes the backup boot environment (or, without boot
// environments, a recursive snapshot of the root).
type backupStep struct{}

func (backupStep) id() string       { return StepBackup }
func (backupStep) rerunnable() bool { return true }

func (backupStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.backupExists(ctx)
}

func (backupStep) run(sc *stepContext, ctx context.Context) error { return sc.runCommands(ctx) }

func (backupStep) plan(b builder) Step {
	s := b.backup()
	if b.t.mode == "patch" {
		s.Notes = append(s.Notes, "skipped when fetch found nothing to install")
	}
	return s
}

// backup plans the backup for the host.
func (b builder) backup() Step {
	name := b.backupName()
	s := Step{ID: StepBackup, Title: "Backup boot environment " + name}
	if b.f.BootEnvs.Tool == "bectl" && b.f.BootEnvs.Supported {
		op := &CreateBootEnv{Name: name}
		err := op.check()
		if err == nil && b.f.RootDataset != "" {
			// The boot environments' datasets are siblings of the root's.
			err = bootenv.ValidateFullName(path.Dir(b.f.RootDataset), name)
		}
		if err != nil {
			s.Skip = err.Error()
			return s
		}
		s.Commands = []Cmd{cmdFor(op, Cond{})}
		s.Verify = Verification{Check: VerifyBootEnv, Name: name}
		s.Notes = []string{"zupgrade rollback activates it and reboots"}
		return s
	}
	ds := b.f.RootDataset
	s.Title = "Backup snapshot " + ds + "@" + name
	op := &Snapshot{Dataset: ds, Name: name}
	if err := op.check(); err != nil {
		s.Skip = err.Error()
		return s
	}
	s.Commands = []Cmd{cmdFor(op, Cond{})}
	s.Verify = Verification{Check: VerifySnapshot, Dataset: ds, Name: name}
	s.Notes = []string{"no boot environments here: zupgrade rollback explains how to return to this snapshot"}
	return s
}

// backupExists: the backup is on the host; in a patch run, also when
// fetch left nothing to install (then there is nothing to back up for).
func (sc *stepContext) backupExists(ctx context.Context) (bool, error) {
	if len(sc.step.Commands) == 0 {
		return false, errUndecided
	}
	if sc.plan.Mode == "patch" {
		pending, _, err := sc.pending(ctx)
		if err != nil || !pending {
			return !pending, err
		}
	}
	switch op := sc.step.Commands[0].Op.(type) {
	case *CreateBootEnv:
		out, err := host.Output(ctx, sc.e.Runner, bootenv.ListArgs()...)
		if err != nil {
			return false, err
		}
		bes, err := bootenv.ParseList(bootenv.ListCommand, out)
		if err != nil {
			return false, err
		}
		_, ok := bootenv.Find(bes, op.Name)
		return ok, nil
	case *Snapshot:
		res, err := sc.probe(ctx, "zfs", "list", "-H", "-t", "snapshot", "-o", "name", op.Dataset+"@"+op.Name)
		return err == nil && res.OK(), err
	}
	return false, errUndecided
}
