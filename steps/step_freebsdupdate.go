// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/host"
)

// target is the plan's target release (zero in patch mode).
func (sc *stepContext) target() freebsdupdate.Release {
	r, _ := freebsdupdate.ParseRelease(sc.plan.To)
	return r
}

func (sc *stepContext) isTarget(r freebsdupdate.Release) bool {
	t := sc.target()
	return !t.IsZero() && !r.IsZero() && r.Base() == t.Base()
}

// versions reads freebsd-version -kru (uname -r on hosts without it).
func (sc *stepContext) versions(ctx context.Context) (freebsdupdate.Versions, error) {
	res, err := sc.probe(ctx, "freebsd-version", "-kru")
	if err != nil {
		return freebsdupdate.Versions{}, err
	}
	if res.ExitCode == host.ExitNotFound {
		un, err := host.Output(ctx, sc.e.Runner, "uname", "-r")
		if err != nil {
			return freebsdupdate.Versions{}, err
		}
		r, err := freebsdupdate.ParseRelease(strings.TrimSpace(string(un)))
		if err != nil {
			return freebsdupdate.Versions{}, err
		}
		return freebsdupdate.Versions{Kernel: r, Running: r, Userland: r}, nil
	}
	if !res.OK() {
		return freebsdupdate.Versions{}, fmt.Errorf("freebsd-version -kru: exit status %d", res.ExitCode)
	}
	return freebsdupdate.ParseVersionsKRU(res.Stdout)
}

// pending reads whether a freebsd-update install is pending and its markers.
func (sc *stepContext) pending(ctx context.Context) (bool, freebsdupdate.InstallDir, error) {
	var dir freebsdupdate.InstallDir
	args := freebsdupdate.ListingCommand(freebsdupdate.WorkDir, "/")
	ls, err := sc.probe(ctx, args...)
	if err != nil {
		return false, dir, err
	}
	ready, err := sc.probe(ctx, freebsdupdate.UpdatesReadyArgs...)
	if err != nil {
		return false, dir, err
	}
	pending, err := freebsdupdate.ParseUpdatesReady(ready.Stdout, ready.ExitCode)
	switch {
	case errors.Is(err, freebsdupdate.ErrNoUpdatesReadyCommand):
		pending = ls.OK()
	case err != nil:
		return false, dir, err
	}
	if ls.OK() {
		if dir, err = freebsdupdate.ParseInstallDir(host.QuoteArgs(args), ls.Stdout); err != nil {
			return false, dir, err
		}
	}
	return pending, dir, nil
}

// upgradeFetched: an install for the target is pending, or the target's
// kernel is installed already.
func (sc *stepContext) upgradeFetched(ctx context.Context) (bool, error) {
	v, err := sc.versions(ctx)
	if err != nil {
		return false, err
	}
	if sc.isTarget(v.Kernel) {
		return true, nil
	}
	pending, _, err := sc.pending(ctx)
	if err != nil || !pending {
		return false, err
	}
	res, err := sc.probe(ctx, "cat", freebsdupdate.TagPath(freebsdupdate.WorkDir))
	if err != nil || !res.OK() {
		return false, err
	}
	tag, err := freebsdupdate.ParseTag(res.Stdout)
	if err != nil {
		return false, err
	}
	return sc.isTarget(tag.Release), nil
}

func (sc *stepContext) installPending(ctx context.Context) (bool, error) {
	pending, _, err := sc.pending(ctx)
	return pending, err
}

func (sc *stepContext) noInstallPending(ctx context.Context) (bool, error) {
	pending, _, err := sc.pending(ctx)
	return !pending, err
}

func (sc *stepContext) kernelInstalled(ctx context.Context) (bool, error) {
	pending, dir, err := sc.pending(ctx)
	if err != nil {
		return false, err
	}
	if pending && dir.KernelDone {
		return true, nil
	}
	v, err := sc.versions(ctx)
	return err == nil && !pending && sc.isTarget(v.Kernel), err
}

func (sc *stepContext) worldInstalled(ctx context.Context) (bool, error) {
	pending, dir, err := sc.pending(ctx)
	if err != nil {
		return false, err
	}
	if pending && dir.WorldDone {
		return true, nil
	}
	v, err := sc.versions(ctx)
	return err == nil && !pending && sc.isTarget(v.Userland), err
}

// runFetch runs freebsd-update upgrade or fetch, stopping it when it waits
// for a terminal, and explains what went wrong.
func (sc *stepContext) runFetch(ctx context.Context) error {
	for _, c := range sc.step.Commands {
		res, err := sc.exec(ctx, c, freebsdupdate.StallLine)
		var stall *stallError
		stopped := errors.As(err, &stall) || errors.Is(err, host.ErrStopped)
		if err != nil && !stopped {
			return err
		}
		o := freebsdupdate.ClassifyFetch(res.Stdout, res.Stderr, res.ExitCode)
		switch {
		case o.CustomKernelReplaced && !o.OK():
			ident := sc.kernelIdent(o)
			return fmt.Errorf("freebsd-update offers to replace the %s kernel with GENERIC, since %s no longer distributes that configuration; zupgrade declined, as the admin did not agree: run zupgrade apply --yes to accept GENERIC, or upgrade from source to keep %s (make buildworld buildkernel KERNCONF=%s)", ident, sc.plan.To, ident, ident)
		case o.CustomKernelNotUpdated && o.OK():
			return sc.kernelLeftOut(sc.kernelIdent(o))
		case o.Kind == freebsdupdate.OutcomeMergeConflict:
			return fmt.Errorf("freebsd-update could not merge %s: edit the file(s) to keep your changes, or run `freebsd-update -r %s upgrade` by hand on a terminal to resolve them, then run zupgrade apply again", strings.Join(o.Files, ", "), sc.plan.To)
		case o.Kind == freebsdupdate.OutcomeNeedsTerminal || stopped:
			return fmt.Errorf("freebsd-update wants to ask on a terminal (%s); run the step's command by hand on a terminal, then zupgrade apply again", o.Summary())
		case !o.OK():
			return fmt.Errorf("freebsd-update: %s", o.Summary())
		}
	}
	return nil
}

// kernelIdent names the running kernel's configuration: as uname -i said
// when the plan was made, else as freebsd-update's warning did.
func (sc *stepContext) kernelIdent(o freebsdupdate.Outcome) string {
	if id := sc.plan.Facts.KernelIdent; id != "" {
		return id
	}
	return o.CustomKernel
}

// kernelLeftOut is the error that stops a run whose upgrade does not
// update the kernel, before install #1: the new world would otherwise come
// up on the old kernel.
func (sc *stepContext) kernelLeftOut(ident string) error {
	return fmt.Errorf("freebsd-update will not update the %s kernel: it upgrades only kernel configurations FreeBSD distributes, and the new world would boot on the old kernel. Nothing is installed yet. Either build and install a %s kernel of %s yourself (make buildkernel installkernel KERNCONF=%s with %s sources) and run zupgrade apply again, or boot a GENERIC kernel, drop the fetched upgrade (rm -r %s) and run zupgrade apply again",
		ident, ident, sc.plan.To, ident, sc.plan.To, freebsdupdate.InstallLink(freebsdupdate.WorkDir, "/"))
}

// runInstallKernel is install #1, unless the pending upgrade holds no
// kernel and the target's kernel is not installed already (by the admin).
func (sc *stepContext) runInstallKernel(ctx context.Context) error {
	pending, dir, err := sc.pending(ctx)
	if err != nil {
		return err
	}
	if pending && !dir.KernelDone {
		res, err := sc.probe(ctx, freebsdupdate.KernelInUpgradeCommand(freebsdupdate.WorkDir, "/")...)
		if err != nil {
			return err
		}
		if res.ExitCode == 1 {
			v, err := sc.versions(ctx)
			if err != nil {
				return err
			}
			if !sc.isTarget(v.Kernel) {
				return sc.kernelLeftOut(sc.kernelIdent(freebsdupdate.Outcome{}))
			}
		}
	}
	return sc.runInstall(ctx)
}

// runInstall runs freebsd-update install when an install is pending.
func (sc *stepContext) runInstall(ctx context.Context) error {
	pending, _, err := sc.pending(ctx)
	if err != nil {
		return err
	}
	if !pending {
		sc.note("nothing to install")
		return nil
	}
	for _, c := range sc.step.Commands {
		res, err := sc.exec(ctx, c, nil)
		if err != nil {
			return err
		}
		if o := freebsdupdate.ClassifyInstall(res.Stdout, res.Stderr, res.ExitCode); !o.OK() {
			return fmt.Errorf("freebsd-update install: %s", o.Summary())
		}
	}
	return nil
}

// freebsdUpdate is a phase of this host's freebsd-update.
func (b builder) freebsdUpdate(phase string) *FreebsdUpdate {
	return &FreebsdUpdate{Phase: phase, NoCron: b.f.Update.NoCronOption}
}

// upgradeStep fetches the upgrade to the target release.
type upgradeStep struct{}

func (upgradeStep) id() string       { return StepUpgrade }
func (upgradeStep) rerunnable() bool { return true }

func (upgradeStep) plan(b builder) Step {
	to := b.targetName()
	s := Step{ID: StepUpgrade, Title: "Fetch the upgrade to " + to,
		Verify: Verification{Check: VerifyUpgradeFetched, Release: to},
		Notes:  []string{"unattended: runs on a pseudo-terminal where zupgrade answers its questions (pager off); a file it cannot merge stops the run and is named"}}
	if op := (&FreebsdUpdate{Phase: "upgrade", Release: b.t.to.String(), NoCron: b.f.Update.NoCronOption}); op.check() == nil {
		s.Commands = []Cmd{cmdFor(op, Cond{})}
	}
	return s
}

func (upgradeStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.upgradeFetched(ctx)
}

func (upgradeStep) run(sc *stepContext, ctx context.Context) error { return sc.runFetch(ctx) }

// fetchStep fetches the patches of the running release.
type fetchStep struct{}

func (fetchStep) id() string       { return StepFetch }
func (fetchStep) rerunnable() bool { return true }

func (fetchStep) plan(b builder) Step {
	return Step{ID: StepFetch, Title: "Fetch patches for " + b.t.current.Base().String(),
		Commands: []Cmd{cmdFor(b.freebsdUpdate("fetch"), Cond{})},
		Verify:   Verification{Check: VerifyPatchesFetched}}
}

func (fetchStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.installPending(ctx)
}

func (fetchStep) run(sc *stepContext, ctx context.Context) error { return sc.runFetch(ctx) }

// installKernelStep is install #1 of an upgrade: the new kernel and /boot.
type installKernelStep struct{}

func (installKernelStep) id() string       { return StepInstallKern }
func (installKernelStep) rerunnable() bool { return true }

func (installKernelStep) plan(b builder) Step {
	return Step{ID: StepInstallKern, Title: "Install the new kernel and /boot (install 1 of 3)",
		Commands: []Cmd{cmdFor(b.freebsdUpdate("install"), Cond{})},
		Verify:   Verification{Check: VerifyKernelInstalled, Release: b.targetName()}}
}

func (installKernelStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.kernelInstalled(ctx)
}

func (installKernelStep) run(sc *stepContext, ctx context.Context) error {
	return sc.runInstallKernel(ctx)
}

// installWorldStep is install #2 of an upgrade: the new world.
type installWorldStep struct{}

func (installWorldStep) id() string       { return StepInstallWorld }
func (installWorldStep) rerunnable() bool { return true }

func (installWorldStep) plan(b builder) Step {
	return Step{ID: StepInstallWorld, Title: "Install the new world (install 2 of 3)",
		Commands: []Cmd{cmdFor(b.freebsdUpdate("install"), Cond{})},
		Verify:   Verification{Check: VerifyWorldInstalled, Release: b.targetName()}}
}

func (installWorldStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.worldInstalled(ctx)
}

func (installWorldStep) run(sc *stepContext, ctx context.Context) error { return sc.runInstall(ctx) }

// installLibsStep is install #3 of an upgrade: the old libraries go.
type installLibsStep struct{}

func (installLibsStep) id() string       { return StepInstallLibs }
func (installLibsStep) rerunnable() bool { return true }

func (installLibsStep) plan(b builder) Step {
	return Step{ID: StepInstallLibs, Title: "Remove old libraries (install 3 of 3)",
		Commands: []Cmd{cmdFor(b.freebsdUpdate("install"), Cond{If: CondInstallAsked})},
		Verify:   Verification{Check: VerifyNoInstallPending}}
}

func (installLibsStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.noInstallPending(ctx)
}

func (installLibsStep) run(sc *stepContext, ctx context.Context) error { return sc.runInstall(ctx) }

// installStep installs the fetched patches.
type installStep struct{}

func (installStep) id() string       { return StepInstall }
func (installStep) rerunnable() bool { return true }

func (installStep) plan(b builder) Step {
	return Step{ID: StepInstall, Title: "Install the patches",
		Commands: []Cmd{cmdFor(b.freebsdUpdate("install"), Cond{})},
		Verify:   Verification{Check: VerifyNoInstallPending}}
}

func (installStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.noInstallPending(ctx)
}

func (installStep) run(sc *stepContext, ctx context.Context) error { return sc.runInstall(ctx) }
