// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"fmt"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/gpart"
)

// The stable IDs of the catalog's steps. The journal refers to steps by
// these; they never change meaning.
const (
	StepPreflight    = "preflight"
	StepQuirkMeta    = "quirk-metadata-path"
	StepBackup       = "backup"
	StepUpgrade      = "upgrade"
	StepFetch        = "fetch"
	StepInstall      = "install"
	StepInstallKern  = "install-kernel"
	StepBootcode     = "bootcode"
	StepRebootKernel = "reboot-kernel"
	StepInstallWorld = "install-world"
	StepPackages     = "packages"
	StepInstallLibs  = "install-libraries"
	StepZpoolUpgrade = "zpool-upgrade"
	StepZfsUpgrade   = "zfs-upgrade"
	StepRebootFinal  = "reboot-final"

	// The steps of a staged upgrade.
	StepStageHook     = "stage-hook"
	StepStageCreate   = "stage-boot-env"
	StepStageMount    = "stage-mount"
	StepStageUpdate   = "stage-freebsd-update"
	StepStagePackages = "stage-packages"
	StepStageBootcode = "stage-bootcode"
	StepStageDeadline = "stage-trial-deadline"
	StepStageUnmount  = "stage-unmount"
	StepStageActivate = "stage-activate-once"
	StepRebootTrial   = "reboot-trial"
	StepTrialHealth   = "trial-health"
	StepCommitBootEnv = "commit-boot-env"
)

// legacyESPSize: ESPs smaller than this are the 800K boot1.efifat
// partitions of installers before FreeBSD 12; they hold boot1.efi, which
// loads /boot/loader.efi from the pool, and have no room for loader.efi.
const legacyESPSize = 2 << 20

// Paths on the host that the plan refers to.
const (
	gptzfsboot = gpart.GPTZFSBootPath
	pmbr       = gpart.PMBRPath
	loaderEFI  = gpart.LoaderEFIPath
	rcScript   = "/usr/local/etc/rc.d/zupgrade"
	rcConfD    = "/etc/rc.conf.d/zupgrade"
)

// Build makes the plan for a host from its facts. It never fails: what
// prevents an upgrade is a blocking check in the plan, so that the admin sees
// every problem at once.
func Build(f *facts.Facts, opts Options) *Plan {
	if opts.Packages == "" {
		opts.Packages = "auto"
	}
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	if opts.LogDir == "" {
		opts.LogDir = LogDirFor(opts.StateDir)
	}
	t, tErr := parseTarget(f, opts.To)
	p := &Plan{
		Format:    PlanFormat,
		Mode:      t.mode,
		From:      f.Release.Running,
		Options:   opts,
		Facts:     *f,
		FactsHash: Fingerprint(f),
	}
	if tErr == nil && t.mode == "upgrade" {
		p.To = t.to.String()
	}
	p.Checks = preflight(f, opts, t, tErr)
	b := builder{f: f, opts: opts, t: t}
	switch {
	case t.mode == "patch":
		p.Steps = b.steps(patchCatalog)
		return p
	case tErr == nil:
		p.Method, p.MethodReason, p.Staged = b.method()
	default:
		p.Method, p.MethodReason = MethodInPlace, "in place: the target is not one zupgrade can upgrade to"
	}
	if p.Staged != nil {
		b.staged = p.Staged
		p.Checks = stagedChecks(f, p.Staged, p.Checks)
		p.Steps = b.steps(stagedCatalog)
		return p
	}
	p.Steps = b.steps(upgradeCatalog)
	return p
}

// parseTarget decides the mode and validates the target release.
func parseTarget(f *facts.Facts, to string) (target, error) {
	t := target{mode: "upgrade"}
	if to == "" {
		t.mode = "patch"
	}
	running := f.Release.Running
	cur, err := freebsdupdate.ParseRelease(running)
	if err != nil {
		return t, fmt.Errorf("the running release %q is not one zupgrade understands: %v", running, err)
	}
	t.current = cur
	if t.mode == "patch" {
		return t, nil
	}
	tr, err := freebsdupdate.ParseRelease(to)
	if err != nil {
		return t, fmt.Errorf("--to %q: %v", to, err)
	}
	t.to = tr
	move, err := freebsdupdate.CheckUpgrade(cur, tr)
	if err != nil {
		return t, err
	}
	t.move = move
	return t, nil
}

type builder struct {
	f    *facts.Facts
	opts Options
	t    target
	// staged is the boot environment of a staged upgrade (nil in place).
	staged *Staged
}

func (b builder) targetName() string {
	if b.t.mode == "patch" {
		return b.t.current.Base().String() + " (newest patch level)"
	}
	return b.t.to.String()
}

// stepDef is one step of the catalog, defined in one place: how it is
// planned for a host (plan; its Verify says what done checks), how its
// effect is recognised on the host (done), and how it is run (run).
type stepDef interface {
	// id is the step's stable ID.
	id() string
	// plan makes the step for the host the builder plans for.
	plan(b builder) Step
	// done reads the host and reports whether the step's effect is
	// there. It never reads the journal. errUndecided means it cannot
	// tell.
	done(sc *stepContext, ctx context.Context) (bool, error)
	// run carries the step out. A checkpoint (checkpointDef) is not
	// run: the engine arms and reboots it.
	run(sc *stepContext, ctx context.Context) error
	// rerunnable: running the step again after an interruption is safe
	// even when done cannot tell.
	rerunnable() bool
}

// checkpointDef is a step that reboots the host: arm installs and enables
// the boot hook that resumes the run, reboot reboots.
type checkpointDef interface {
	stepDef
	arm(sc *stepContext, ctx context.Context) error
	reboot(sc *stepContext, ctx context.Context) error
}

// upgradeCatalog is the order of the steps of an upgrade to another
// release.
var upgradeCatalog = []stepDef{
	preflightStep{},
	quirkStep{},
	backupStep{},
	upgradeStep{},
	installKernelStep{},
	bootcodeStep{},
	rebootStep{},
	installWorldStep{},
	packagesStep{},
	installLibsStep{},
	zpoolUpgradeStep{},
	zfsUpgradeStep{},
	rebootStep{final: true},
}

// stagedCatalog is the order of the steps of a staged upgrade: the new
// release is built in a new boot environment while the old one runs,
// booted once on trial, checked and kept. The pool's one-way steps are
// not part of it (zupgrade finalize does them later).
var stagedCatalog = []stepDef{
	preflightStep{},
	stageHookStep{},
	stageCreateStep{},
	stageMountStep{},
	stageUpdateStep{},
	stagePackagesStep{},
	stageBootcodeStep{},
	stageDeadlineStep{},
	stageUnmountStep{},
	stageActivateStep{},
	trialRebootStep{},
	trialHealthStep{},
	commitStep{},
}

// patchCatalog is the order of the steps of a patch update.
var patchCatalog = []stepDef{
	preflightStep{},
	quirkStep{},
	fetchStep{},
	backupStep{},
	installStep{},
	bootcodeStep{},
	rebootStep{final: true},
}

// stepByID returns the definition of the step with that ID.
func stepByID(id string) (stepDef, bool) {
	for _, c := range [][]stepDef{upgradeCatalog, patchCatalog, stagedCatalog, finalizeCatalog} {
		for _, d := range c {
			if d.id() == id {
				return d, true
			}
		}
	}
	return nil, false
}

// steps plans the steps of a catalog.
func (b builder) steps(catalog []stepDef) []Step {
	out := make([]Step, len(catalog))
	for i, d := range catalog {
		out[i] = d.plan(b)
	}
	return out
}

// runCommands runs the step's operations one after the other.
func (sc *stepContext) runCommands(ctx context.Context) error {
	for _, c := range sc.step.Commands {
		if _, err := sc.run(ctx, c); err != nil {
			return err
		}
	}
	return nil
}
