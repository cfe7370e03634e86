// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/host"
)

// The steps that build a staged upgrade's boot environment while the old
// one runs (tools/build/beinstall.sh does the same from source): the boot
// hook armed first, so that the copy has it too; the boot environment
// made and mounted at StageMountPoint; freebsd-update's upgrade and
// installs and the packages done inside it; boot code from its /boot;
// unmounted and activated for the next boot only.

// stageHookStep installs and enables the boot hook in the running boot
// environment before it is copied: the trial boot resumes the run, and
// so does the old boot environment after a fallback, to say why.
type stageHookStep struct{}

func (stageHookStep) id() string       { return StepStageHook }
func (stageHookStep) rerunnable() bool { return true }

func (stageHookStep) plan(b builder) Step {
	return Step{ID: StepStageHook, Title: "Arm the boot hook (copied into the new boot environment with the rest)",
		Commands: hookCommands(b.f, b.opts.StateDir, b.opts.LogDir),
		Verify:   Verification{Check: VerifyHookArmed},
		Notes:    []string{"zupgrade copies itself to " + hookBinary + " first unless that file is the running zupgrade already; the journal lives in " + b.opts.StateDir + ", which must be outside the boot environments (the pool's root dataset) so that both see it"}}
}

// done: arming again is harmless and cheap, so it always runs.
func (stageHookStep) done(*stepContext, context.Context) (bool, error) { return false, nil }

func (stageHookStep) run(sc *stepContext, ctx context.Context) error {
	return rebootStep{}.arm(sc, ctx)
}

// stageCreateStep makes the new boot environment from the running one.
type stageCreateStep struct{}

func (stageCreateStep) id() string       { return StepStageCreate }
func (stageCreateStep) rerunnable() bool { return false }

func (stageCreateStep) plan(b builder) Step {
	be := b.staged.BootEnv
	return Step{ID: StepStageCreate, Title: "Create boot environment " + be + " from " + b.staged.Running,
		Commands: []Cmd{cmdFor(&CreateBootEnv{Name: be}, Cond{})},
		Verify:   Verification{Check: VerifyBootEnv, Name: be},
		Notes:    []string{b.staged.Running + " stays as it is: it is the way back until " + be + " is kept"}}
}

func (stageCreateStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	_, ok, err := sc.stagedBootEnv(ctx)
	return ok, err
}

func (stageCreateStep) run(sc *stepContext, ctx context.Context) error { return sc.runCommands(ctx) }

// stageMountStep mounts the new boot environment at StageMountPoint.
type stageMountStep struct{}

func (stageMountStep) id() string       { return StepStageMount }
func (stageMountStep) rerunnable() bool { return true }

func (stageMountStep) plan(b builder) Step {
	s := b.staged
	return Step{ID: StepStageMount, Title: "Mount " + s.BootEnv + " at " + s.MountPoint,
		Commands: stageMountCommands(s),
		Verify:   Verification{Check: VerifyBootEnvMounted, Name: s.BootEnv, Path: s.MountPoint},
		Notes:    []string{"always at this path: freebsd-update keys an interrupted install by it, so a run resumed after a power cut mounts it there again"}}
}

func stageMountCommands(s *Staged) []Cmd {
	return []Cmd{cmdFor(&MakeDir{Path: s.MountPoint}, Cond{}), cmdFor(&MountBootEnv{Name: s.BootEnv, MountPoint: s.MountPoint}, Cond{})}
}

func (stageMountStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.stageMounted(ctx)
}

func (stageMountStep) run(sc *stepContext, ctx context.Context) error { return sc.runCommands(ctx) }

// stagedBootEnv reads the new boot environment from bectl list.
func (sc *stepContext) stagedBootEnv(ctx context.Context) (bootenv.BootEnv, bool, error) {
	out, err := host.Output(ctx, sc.e.Runner, bootenv.ListArgs()...)
	if err != nil {
		return bootenv.BootEnv{}, false, err
	}
	bes, err := bootenv.ParseList(bootenv.ListCommand, out)
	if err != nil {
		return bootenv.BootEnv{}, false, err
	}
	be, ok := bootenv.Find(bes, sc.plan.Staged.BootEnv)
	return be, ok, nil
}

// stageMounted reports whether the new boot environment is mounted at its
// mount point.
func (sc *stepContext) stageMounted(ctx context.Context) (bool, error) {
	be, ok, err := sc.stagedBootEnv(ctx)
	return ok && be.Mountpoint == sc.plan.Staged.MountPoint, err
}

// mountStage mounts the new boot environment again when it is not (a
// reboot or power cut ended the mount), so that the steps working inside
// it can resume.
func (sc *stepContext) mountStage(ctx context.Context) error {
	ok, err := sc.stageMounted(ctx)
	if err != nil || ok {
		return err
	}
	sc.note("%s is not mounted (the host rebooted since): mounting it at %s again", sc.plan.Staged.BootEnv, sc.plan.Staged.MountPoint)
	for _, c := range stageMountCommands(sc.plan.Staged) {
		if _, err := sc.run(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// stageUpdateStep runs freebsd-update's upgrade and every install into
// the mounted boot environment, with no reboot between them: nothing of
// it runs until it boots.
type stageUpdateStep struct{}

func (stageUpdateStep) id() string       { return StepStageUpdate }
func (stageUpdateStep) rerunnable() bool { return true }

func (stageUpdateStep) plan(b builder) Step {
	s := b.staged
	fu := func(phase string) *FreebsdUpdate {
		return &FreebsdUpdate{Phase: phase, Release: b.t.to.String(), NoCron: b.f.Update.NoCronOption, BaseDir: s.MountPoint, CurrentlyRunning: b.f.Release.Userland}
	}
	up, in := fu("upgrade"), fu("install")
	in.Release = ""
	st := Step{ID: StepStageUpdate, Title: "Install " + b.t.to.String() + " into boot environment " + s.BootEnv + " with freebsd-update (upgrade, then every install)",
		Verify: Verification{Check: VerifyStagedWorld, Release: b.t.to.String(), Path: s.MountPoint},
		Notes: []string{"unattended: upgrade runs on a pseudo-terminal where zupgrade answers its questions; a file it cannot merge stops the run and is named",
			"install runs up to three times (kernel, world, old libraries), as freebsd-update asks, with no reboot between: the new system does not run until its trial boot"}}
	if up.check() == nil {
		st.Commands = []Cmd{cmdFor(up, Cond{}), cmdFor(in, Cond{})}
	}
	return st
}

func (stageUpdateStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	if ok, err := sc.stageMounted(ctx); err != nil || !ok {
		return false, err
	}
	return sc.stagedWorldInstalled(ctx)
}

func (stageUpdateStep) run(sc *stepContext, ctx context.Context) error {
	if err := sc.mountStage(ctx); err != nil {
		return err
	}
	var up, in Cmd
	for _, c := range sc.step.Commands {
		if c.Op.(*FreebsdUpdate).Phase == "upgrade" {
			up = c
		} else {
			in = c
		}
	}
	pending, err := sc.stagedPending(ctx)
	if err != nil {
		return err
	}
	if !pending {
		done, err := sc.stagedWorldInstalled(ctx)
		if err != nil || done {
			return err
		}
		fetch := *sc
		fetch.step.Commands = []Cmd{up}
		if err := fetch.runFetch(ctx); err != nil {
			return err
		}
	}
	for n := 0; ; n++ {
		pending, err := sc.stagedPending(ctx)
		if err != nil || !pending {
			return err
		}
		if n == 3 {
			return fmt.Errorf("freebsd-update still has an install pending in %s after three installs: look at %s", sc.plan.Staged.MountPoint, freebsdupdate.StagedWorkDir(sc.plan.Staged.MountPoint))
		}
		res, err := sc.exec(ctx, in, nil)
		if err != nil {
			return err
		}
		if o := freebsdupdate.ClassifyInstall(res.Stdout, res.Stderr, res.ExitCode); !o.OK() {
			return fmt.Errorf("freebsd-update install into %s: %s", sc.plan.Staged.MountPoint, o.Summary())
		}
	}
}

// stagedScript is the freebsd-update working on the mounted boot
// environment.
func (sc *stepContext) stagedScript() freebsdupdate.Script {
	return freebsdupdate.Script{NoCronOption: sc.plan.Facts.Update.NoCronOption, BaseDir: sc.plan.Staged.MountPoint, CurrentlyRunning: sc.plan.Facts.Release.Userland}
}

// stagedPending reports whether an install is pending in the mounted boot
// environment (freebsd-update -b -d updatesready).
func (sc *stepContext) stagedPending(ctx context.Context) (bool, error) {
	res, err := sc.probe(ctx, sc.stagedScript().UpdatesReadyArgs()...)
	if err != nil {
		return false, err
	}
	return freebsdupdate.ParseUpdatesReady(res.Stdout, res.ExitCode)
}

// stagedWorldInstalled: the mounted boot environment's freebsd-version is
// of the target and nothing is pending there.
func (sc *stepContext) stagedWorldInstalled(ctx context.Context) (bool, error) {
	res, err := sc.probe(ctx, "cat", path.Join(sc.plan.Staged.MountPoint, "bin/freebsd-version"))
	if err != nil || !res.OK() {
		return false, err
	}
	var rel freebsdupdate.Release
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		if v, ok := strings.CutPrefix(l, `USERLAND_VERSION="`); ok {
			rel, _ = freebsdupdate.ParseRelease(strings.TrimSuffix(v, `"`))
		}
	}
	if !sc.isTarget(rel) {
		return false, nil
	}
	pending, err := sc.stagedPending(ctx)
	return !pending, err
}

// stagePackagesStep reinstalls the packages inside the mounted boot
// environment from the new release's repository, with a devfs mounted
// there for the packages' scripts.
type stagePackagesStep struct{}

func (stagePackagesStep) id() string       { return StepStagePackages }
func (stagePackagesStep) rerunnable() bool { return true }

func (stagePackagesStep) plan(b builder) Step {
	s := b.staged
	dev := path.Join(s.MountPoint, "dev")
	st := Step{ID: StepStagePackages, Title: "Upgrade the packages inside " + s.BootEnv + " (pkg -c)",
		Commands: []Cmd{
			cmdFor(&MountDevfs{MountPoint: dev}, Cond{}),
			cmdFor(&Packages{Action: "upgrade", Chroot: s.MountPoint}, Cond{}),
			cmdFor(&UnmountDevfs{MountPoint: dev}, Cond{}),
		},
		Verify: Verification{Check: VerifyStagedPackages, Path: s.MountPoint},
		Notes:  []string{"pkg -c runs inside the boot environment: its package database, ABI and repositories; devfs is mounted there for the packages' install scripts and unmounted after"}}
	switch {
	case b.packagesTool() == "none":
		st.Skip = "--packages none: third-party software is the admin's to rebuild in " + s.BootEnv
	case !b.f.Pkg.Activated:
		st.Skip = "pkg is not in use on this host"
	}
	return st
}

// done: a reinstall is cheap to repeat and its result cannot be read
// without running pkg inside the boot environment; it runs.
func (stagePackagesStep) done(*stepContext, context.Context) (bool, error) { return false, nil }

func (stagePackagesStep) run(sc *stepContext, ctx context.Context) error {
	if err := sc.mountStage(ctx); err != nil {
		return err
	}
	devfs := sc.step.Commands[0].Op.(*MountDevfs).MountPoint
	mounted := false
	for _, c := range sc.step.Commands {
		switch c.Op.(type) {
		case *MountDevfs:
			if sc.devfsMounted(ctx, devfs) {
				mounted = true
				continue
			}
		case *UnmountDevfs:
			if !mounted {
				continue
			}
		}
		if _, err := sc.run(ctx, c); err != nil {
			if mounted {
				sc.run(context.WithoutCancel(ctx), sc.step.Commands[len(sc.step.Commands)-1])
			}
			return err
		}
		if _, ok := c.Op.(*MountDevfs); ok {
			mounted = true
		}
	}
	return nil
}

// devfsMounted reports whether mount lists a devfs at point (an earlier
// attempt of the step left it).
func (sc *stepContext) devfsMounted(ctx context.Context, point string) bool {
	out, err := host.Output(ctx, sc.e.Runner, "mount")
	return err == nil && strings.Contains(string(out), " on "+point+" (devfs")
}

// stageBootcodeStep writes the new boot environment's boot code and
// loaders (from its /boot) to every disk of the boot pool.
type stageBootcodeStep struct{}

func (stageBootcodeStep) id() string       { return StepStageBootcode }
func (stageBootcodeStep) rerunnable() bool { return true }

func (stageBootcodeStep) plan(b builder) Step {
	s := b.bootcode(StepStageBootcode, "Write "+b.staged.BootEnv+"'s boot code and loaders (from "+b.staged.MountPoint+"/boot) to every boot-pool disk")
	s.Verify = Verification{Check: VerifyStagedBootcode, Path: b.staged.MountPoint}
	s.Notes = append(s.Notes, "the new gptzfsboot and loader.efi also boot "+b.staged.Running+" after a fallback: a loader reads the older kernel as an ELF file and checks only the pool's features and the boot environment's lua scripts against itself (stand/common/load_elf.c, stand/libsa/zfs/zfsimpl.c check_mos_features)")
	return s
}

func (stageBootcodeStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	if ok, err := sc.stageMounted(ctx); err != nil || !ok {
		return false, err
	}
	return sc.bootcodeDone(ctx)
}

func (stageBootcodeStep) run(sc *stepContext, ctx context.Context) error {
	if err := sc.mountStage(ctx); err != nil {
		return err
	}
	return sc.runBootcode(ctx)
}

// stageUnmountStep unmounts the new boot environment.
type stageUnmountStep struct{}

func (stageUnmountStep) id() string       { return StepStageUnmount }
func (stageUnmountStep) rerunnable() bool { return true }

func (stageUnmountStep) plan(b builder) Step {
	return Step{ID: StepStageUnmount, Title: "Unmount " + b.staged.BootEnv,
		Commands: []Cmd{cmdFor(&UnmountBootEnv{Name: b.staged.BootEnv}, Cond{})},
		Verify:   Verification{Check: VerifyBootEnvUnmounted, Name: b.staged.BootEnv}}
}

func (stageUnmountStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	be, ok, err := sc.stagedBootEnv(ctx)
	return ok && be.Mountpoint == "", err
}

func (stageUnmountStep) run(sc *stepContext, ctx context.Context) error { return sc.runCommands(ctx) }

// stageActivateStep makes the new boot environment the next boot's only.
type stageActivateStep struct{}

func (stageActivateStep) id() string       { return StepStageActivate }
func (stageActivateStep) rerunnable() bool { return true }

func (stageActivateStep) plan(b builder) Step {
	return Step{ID: StepStageActivate, Title: "Boot " + b.staged.BootEnv + " once, on trial (bectl activate -t)",
		Commands: []Cmd{cmdFor(&ActivateBootEnv{Name: b.staged.BootEnv, Temporary: true}, Cond{})},
		Verify:   Verification{Check: VerifyBootOnce, Name: b.staged.BootEnv},
		Notes:    []string{"the boot code consumes the one-time activation before the kernel runs: whatever ends the trial (a panic, a hang and a reset, a failed health check and a reboot), the boot after it is " + b.staged.Running + "'s"}}
}

// done: the new boot environment is armed for the next boot, or the host
// runs it already: the boot that started it spent the one-time
// activation (a power cut after bectl activate -t boots it too), and
// arming it again would send the reboot that ends the trial into it once
// more.
func (stageActivateStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	if sc.runningBootEnv(ctx) == sc.plan.Staged.BootEnv {
		return true, nil
	}
	be, ok, err := sc.stagedBootEnv(ctx)
	return ok && be.Temporary, err
}

func (stageActivateStep) run(sc *stepContext, ctx context.Context) error { return sc.runCommands(ctx) }
