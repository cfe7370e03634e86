// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"path"

	"github.com/zupgrade/zupgrade/freebsdupdate"
)

// quirkStep patches freebsd-update's 8.x metadata path check where the
// script has it.
type quirkStep struct{}

func (quirkStep) id() string       { return StepQuirkMeta }
func (quirkStep) rerunnable() bool { return true }

func (quirkStep) done(sc *stepContext, ctx context.Context) (bool, error) { return sc.quirkFixed(ctx) }

func (quirkStep) run(sc *stepContext, ctx context.Context) error { return sc.runCommands(ctx) }

func (quirkStep) plan(b builder) Step {
	s := Step{ID: StepQuirkMeta, Title: "Patch freebsd-update's metadata path check (8.x integrity-check bug)",
		Verify: Verification{Check: VerifyMetadataPath}}
	if b.f.Update.MetadataPattern != "old" {
		s.Skip = "not needed: this freebsd-update accepts today's metadata"
		return s
	}
	backup := path.Join(b.opts.StateDir, "backup", "freebsd-update.orig")
	s.Commands = []Cmd{
		cmdFor(&MakeDir{Path: path.Dir(backup)}, Cond{}),
		cmdFor(&FixMetadataPath{Backup: backup}, Cond{}),
		cmdFor(&FixMetadataPath{Backup: backup, Edit: true}, Cond{}),
	}
	return s
}

func (sc *stepContext) quirkFixed(ctx context.Context) (bool, error) {
	q := freebsdupdate.QuirkProbeCommand()
	res, err := sc.probe(ctx, q.Args...)
	if err != nil {
		return false, err
	}
	lines, err := freebsdupdate.ParseQuirkProbe(res.Stdout, res.ExitCode)
	if err != nil {
		return false, err
	}
	return freebsdupdate.QuirkResolved(freebsdupdate.QuirkMetadataPath, freebsdupdate.DetectQuirks(lines, freebsdupdate.QuirkContext{})), nil
}
