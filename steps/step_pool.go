// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/zpool"
)

// poolSteps are the one-way steps: zpool upgrade of the boot pool (and any
// extra pools asked for), gated on the loader being able to read every
// feature it enables, then boot code again, then zfs upgrade.
// zpoolUpgradeStep enables the new pool features the loader can read,
// once the new kernel runs and the new boot code was read back from every
// disk, then writes the boot code again. One-way.
type zpoolUpgradeStep struct{}

func (zpoolUpgradeStep) id() string       { return StepZpoolUpgrade }
func (zpoolUpgradeStep) rerunnable() bool { return true }
func (zpoolUpgradeStep) plan(b builder) Step {
	zp, _ := b.poolSteps()
	return zp
}

func (zpoolUpgradeStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.poolsUpgraded(ctx)
}

func (zpoolUpgradeStep) run(sc *stepContext, ctx context.Context) error {
	return sc.runPoolUpgrade(ctx)
}

// zfsUpgradeStep moves the pools' file systems to the current version.
// One-way.
type zfsUpgradeStep struct{}

func (zfsUpgradeStep) id() string       { return StepZfsUpgrade }
func (zfsUpgradeStep) rerunnable() bool { return true }
func (zfsUpgradeStep) plan(b builder) Step {
	_, zf := b.poolSteps()
	return zf
}

func (zfsUpgradeStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.filesystemsUpgraded(ctx)
}

func (zfsUpgradeStep) run(sc *stepContext, ctx context.Context) error { return sc.runCommands(ctx) }

// poolSteps plans the zpool-upgrade and zfs-upgrade steps.
func (b builder) poolSteps() (zpoolStep, zfsStep Step) {
	zp := Step{ID: StepZpoolUpgrade, Title: "Upgrade pool features (one-way)",
		Verify: Verification{Check: VerifyPoolFeatures}}
	zf := Step{ID: StepZfsUpgrade, Title: "Upgrade file system versions (one-way)",
		Verify: Verification{Check: VerifyFilesystems}}
	pool := bootPool(b.f)
	pools := []*facts.Pool{}
	if pool != nil {
		pools = append(pools, pool)
	}
	for _, name := range b.opts.ExtraPools {
		for i := range b.f.Pools {
			if b.f.Pools[i].Name == name && name != b.f.BootPool {
				pools = append(pools, &b.f.Pools[i])
			}
		}
	}
	switch {
	case b.opts.NoPoolUpgrade:
		zp.Skip = "--no-pool-upgrade"
		zf.Skip = "--no-pool-upgrade"
		return zp, zf
	case pool == nil:
		zp.Skip = "no boot pool"
		zf.Skip = "no boot pool"
		return zp, zf
	}
	for _, p := range pools {
		up := &UpgradePool{Pool: p.Name}
		if err := up.check(); err != nil {
			zp.Notes = append(zp.Notes, err.Error())
			continue
		}
		zp.Commands = append(zp.Commands, cmdFor(up, Cond{If: CondPoolUpgradable, Pool: p.Name}))
		switch {
		case p.LegacyVersion != 0:
			zp.Notes = append(zp.Notes, fmt.Sprintf("%s is at legacy version %d: zpool upgrade moves it to feature flags", p.Name, p.LegacyVersion))
		case len(p.Upgradable) > 0:
			zp.Notes = append(zp.Notes, fmt.Sprintf("%s lacks %s today; the list is read again once the new system runs", p.Name, strings.Join(p.Upgradable, ", ")))
		}
		if c := strings.Join(p.Compatibility, ","); c != "" && c != "off" {
			zp.Notes = append(zp.Notes, p.Name+": compatibility="+c+" limits what zpool upgrade enables")
		}
		if op := (&UpgradeFilesystems{Dataset: p.Name}); op.check() == nil {
			zf.Commands = append(zf.Commands, cmdFor(op, Cond{If: CondOldFilesystems, Pool: p.Name}))
		}
		if len(p.OldFilesystems) > 0 {
			zf.Notes = append(zf.Notes, p.Name+": "+strings.Join(p.OldFilesystems, ", ")+" below the current version today")
		}
	}
	zp.Notes = append(zp.Notes,
		"runs only once the new kernel runs and the new boot code was read back from every disk",
		"features the FreeBSD loader cannot read once active are never enabled: when the new system offers any, the others are enabled one by one (zpool set feature@NAME=enabled POOL)")
	zp.Commands = append(zp.Commands, b.bootcode("", "").Commands...)
	return zp, zf
}

// poolCommands splits the zpool-upgrade step into its pool upgrades and
// the boot code operations that follow them.
func (sc *stepContext) poolCommands() (pool []*UpgradePool, boot []Cmd) {
	for _, c := range sc.step.Commands {
		if op, ok := c.Op.(*UpgradePool); ok {
			pool = append(pool, op)
		} else {
			boot = append(boot, c)
		}
	}
	return pool, boot
}

// poolFeatures reads what zpool upgrade would do to pool now: whether it is
// at a legacy version, and the features it would enable split into those
// to enable (readable by the loader, allowed by the pool's compatibility
// property) and the others.
func (sc *stepContext) poolFeatures(ctx context.Context, pool string) (legacy bool, enable, leave []string, err error) {
	out, err := host.Output(ctx, sc.e.Runner, "zpool", "get", "-H", "-p", "all")
	if err != nil {
		return false, nil, nil, err
	}
	props, err := zpool.ParseProperties(string(out))
	if err != nil {
		return false, nil, nil, err
	}
	lst, err := host.Output(ctx, sc.e.Runner, "zpool", "upgrade")
	if err != nil {
		return false, nil, nil, err
	}
	ul, err := zpool.ParseUpgradeList(string(lst))
	if err != nil {
		return false, nil, nil, err
	}
	if _, ok := ul.Legacy[pool]; ok {
		return true, nil, nil, nil
	}
	want := ul.WouldEnable(pool)
	for _, p := range props {
		if p.Pool != pool {
			continue
		}
		allowed := want
		if compat := p.Compatibility(); len(compat) > 0 {
			sets, err := sc.compatibilitySets(ctx, compat)
			if err != nil {
				return false, nil, nil, err
			}
			allowed = zpool.AllowedByCompatibility(want, compat, sets)
		}
		lc := zpool.CheckLoader(&p, allowed)
		bad := map[string]bool{}
		for _, f := range append(lc.EnableUnreadable, lc.EnableUnknown...) {
			bad[f] = true
		}
		for _, f := range want {
			switch {
			case p.Feature(f) != zpool.FeatureDisabled:
			case bad[f] || !slices.Contains(allowed, f):
				leave = append(leave, f)
			default:
				enable = append(enable, f)
			}
		}
	}
	return false, enable, leave, nil
}

// compatibilitySets reads the feature-set files the compatibility property
// names, from the first directory of zpool.CompatibilityDirs holding each.
func (sc *stepContext) compatibilitySets(ctx context.Context, names []string) (map[string][]string, error) {
	sets := map[string][]string{}
	for _, n := range names {
		if n == "legacy" || strings.Contains(n, "/") {
			continue
		}
		found := false
		for _, dir := range zpool.CompatibilityDirs {
			res, err := sc.probe(ctx, "cat", path.Join(dir, n))
			if err != nil {
				return nil, err
			}
			if !res.OK() {
				continue
			}
			fs, err := zpool.ParseCompatibilityFile(path.Join(dir, n), res.Stdout)
			if err != nil {
				return nil, err
			}
			sets[n], found = fs, true
			break
		}
		if !found {
			return nil, fmt.Errorf("the compatibility property names %q, which is in none of %s", n, strings.Join(zpool.CompatibilityDirs, ", "))
		}
	}
	return sets, nil
}

func (sc *stepContext) poolsUpgraded(ctx context.Context) (bool, error) {
	pool, _ := sc.poolCommands()
	for _, op := range pool {
		legacy, enable, _, err := sc.poolFeatures(ctx, op.Pool)
		if err != nil || legacy || len(enable) > 0 {
			return false, err
		}
	}
	return sc.bootcodeCurrent(ctx)
}

// runPoolUpgrade upgrades pool features only once the new kernel runs and
// the new boot code has been read back from every disk, enables only
// features the loader can read, then writes boot code again.
func (sc *stepContext) runPoolUpgrade(ctx context.Context) error {
	ok, err := sc.newKernelRunning(ctx)
	if err != nil {
		return err
	}
	if !ok && sc.plan.Mode == "upgrade" {
		return fmt.Errorf("refusing to upgrade pool features: the new kernel is not running")
	}
	if ok, err := sc.bootcodeCurrent(ctx); err != nil || !ok {
		return fmt.Errorf("refusing to upgrade pool features: boot code is not current on every disk of the boot pool (%v); run the bootcode step again", err)
	}
	pool, boot := sc.poolCommands()
	for _, op := range pool {
		name := op.Pool
		legacy, enable, leave, err := sc.poolFeatures(ctx, name)
		if err != nil {
			return err
		}
		switch {
		case legacy || (len(enable) > 0 && len(leave) == 0):
			if _, err := sc.run(ctx, cmdFor(op, Cond{})); err != nil {
				return err
			}
		case len(enable) > 0:
			sc.note("%s: leaving %s disabled: the FreeBSD loader cannot read them once active, or the pool's compatibility property excludes them", name, strings.Join(leave, ", "))
			for _, f := range enable {
				if _, err := sc.run(ctx, cmdFor(&EnableFeature{Pool: name, Feature: f}, Cond{})); err != nil {
					return err
				}
			}
		default:
			sc.note("%s: no feature to enable", name)
		}
	}
	return sc.writeBootcode(ctx, boot)
}

func (sc *stepContext) filesystemsUpgraded(ctx context.Context) (bool, error) {
	out, err := host.Output(ctx, sc.e.Runner, "zfs", "upgrade")
	if err != nil {
		return false, err
	}
	fl, err := zpool.ParseFilesystemUpgradeList(string(out))
	if err != nil {
		return false, err
	}
	for _, c := range sc.step.Commands {
		op, ok := c.Op.(*UpgradeFilesystems)
		if !ok {
			continue
		}
		root := op.Dataset
		for _, fs := range fl.OutOfDate {
			if fs.Name == root || strings.HasPrefix(fs.Name, root+"/") {
				return false, nil
			}
		}
	}
	return true, nil
}
