// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/gpart"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/pkgng"
	"github.com/zupgrade/zupgrade/zpool"
)

// action is how the engine runs one step of the catalog and recognises its
// effect on the host.
type action struct {
	// done reads the host and reports whether the step's effect is there.
	// It never reads the journal. errUndecided means it cannot tell.
	done func(sc *stepContext, ctx context.Context) (bool, error)
	run  func(sc *stepContext, ctx context.Context) error
	// rerunnable: running the step again after an interruption is safe
	// even when done cannot tell.
	rerunnable bool
}

var actions map[string]action

func init() {
	never := func(*stepContext, context.Context) (bool, error) { return false, nil }
	install := action{done: (*stepContext).noInstallPending, run: (*stepContext).runInstall, rerunnable: true}
	actions = map[string]action{
		StepPreflight:    {done: never, run: (*stepContext).runPreflight, rerunnable: true},
		StepQuirkMeta:    {done: (*stepContext).quirkFixed, run: (*stepContext).runCommands, rerunnable: true},
		StepBackup:       {done: (*stepContext).backupExists, run: (*stepContext).runCommands, rerunnable: true},
		StepUpgrade:      {done: (*stepContext).upgradeFetched, run: (*stepContext).runFetch, rerunnable: true},
		StepFetch:        {done: (*stepContext).installPending, run: (*stepContext).runFetch, rerunnable: true},
		StepInstallKern:  {done: (*stepContext).kernelInstalled, run: (*stepContext).runInstallKernel, rerunnable: true},
		StepBootcode:     {done: (*stepContext).bootcodeDone, run: (*stepContext).runBootcode, rerunnable: true},
		StepRebootKernel: {done: (*stepContext).newKernelRunning},
		StepInstallWorld: {done: (*stepContext).worldInstalled, run: (*stepContext).runInstall, rerunnable: true},
		StepPackages:     {done: (*stepContext).packagesCurrent, run: (*stepContext).runPackages, rerunnable: true},
		StepInstallLibs:  install,
		StepInstall:      install,
		StepZpoolUpgrade: {done: (*stepContext).poolsUpgraded, run: (*stepContext).runPoolUpgrade, rerunnable: true},
		StepZfsUpgrade:   {done: (*stepContext).filesystemsUpgraded, run: (*stepContext).runCommands, rerunnable: true},
		StepRebootFinal:  {done: (*stepContext).finalStateReached},
	}
}

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

func (sc *stepContext) runCommands(ctx context.Context) error {
	for _, c := range sc.step.Commands {
		if _, err := sc.run(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// runPreflight inspects the host again and refuses to go on when a check
// blocks or the host no longer matches the plan.
func (sc *stepContext) runPreflight(ctx context.Context) error {
	f, err := facts.Gather(ctx, host.ReadOnlyRunner{Next: sc.e.Runner})
	if err != nil {
		return err
	}
	if Fingerprint(f) != sc.plan.FactsHash {
		return fmt.Errorf("the host changed since the plan was made; make a new plan (zupgrade plan)")
	}
	p := Build(f, sc.plan.Options)
	if p.Blocked() {
		var why []string
		for _, c := range p.Checks {
			if c.Verdict == Block {
				why = append(why, c.Title+": "+c.Reason+" (fix: "+c.Fix+")")
			}
		}
		return fmt.Errorf("a preflight check blocks: %s", strings.Join(why, "; "))
	}
	return nil
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
	args := sc.step.Commands[0].Args
	name := args[len(args)-1]
	if args[0] == "bectl" {
		out, err := host.Output(ctx, sc.e.Runner, bootenv.ListArgs()...)
		if err != nil {
			return false, err
		}
		bes, err := bootenv.ParseList(bootenv.ListCommand, out)
		if err != nil {
			return false, err
		}
		_, ok := bootenv.Find(bes, name)
		return ok, nil
	}
	res, err := sc.probe(ctx, "zfs", "list", "-H", "-t", "snapshot", "-o", "name", name)
	return err == nil && res.OK(), err
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

// stalePackages reads the installed packages and returns those not built
// for the target's ABI, and whether the plan's misc/compatNNx is
// installed. ok is false when the plan is no major upgrade (the ABI stays).
func (sc *stepContext) stalePackages(ctx context.Context) (stale []pkgng.Package, compat bool, ok bool, err error) {
	from, _ := freebsdupdate.ParseRelease(sc.plan.From)
	if sc.plan.Mode != "upgrade" || from.Major == sc.target().Major {
		return nil, false, false, nil
	}
	abi, err := pkgng.ExpectedABI(sc.target().Major, sc.plan.Facts.Machine)
	if err != nil {
		return nil, false, false, err
	}
	out, err := host.Output(ctx, sc.e.Runner, pkgng.QueryArgs()...)
	if err != nil {
		return nil, false, false, errUndecided
	}
	pkgs, err := pkgng.ParseQuery(out)
	if err != nil {
		return nil, false, false, err
	}
	for _, p := range pkgs {
		compat = compat || "misc/"+p.Name == pkgng.CompatPackage(from.Major)
	}
	return pkgng.Stale(pkgs, abi), compat, true, nil
}

// packagesCurrent: pkg runs and every package is built for the new ABI,
// or, with --compat-libs, misc/compatNNx is there for those that are not.
func (sc *stepContext) packagesCurrent(ctx context.Context) (bool, error) {
	n, err := sc.probe(ctx, pkgng.ActivationArgs()...)
	if err != nil {
		return false, err
	}
	if !n.OK() {
		return !sc.plan.Facts.Pkg.Activated, nil
	}
	stale, compat, major, err := sc.stalePackages(ctx)
	if err != nil || !major {
		return err == nil, err
	}
	return len(stale) == 0 || (compat && sc.plan.Options.CompatLibs), nil
}

func (sc *stepContext) runPackages(ctx context.Context) error {
	for _, c := range sc.step.Commands {
		if c.When != "" {
			continue
		}
		if err := sc.runPackageCommand(ctx, c); err != nil {
			return err
		}
	}
	stale, compat, major, err := sc.stalePackages(ctx)
	if err != nil || !major || len(stale) == 0 {
		return err
	}
	from, _ := freebsdupdate.ParseRelease(sc.plan.From)
	names := make([]string, len(stale))
	for i, p := range stale {
		names[i] = p.Name + " (" + p.RawABI + ")"
	}
	abi, _ := pkgng.ExpectedABI(sc.target().Major, sc.plan.Facts.Machine)
	if !sc.plan.Options.CompatLibs {
		return fmt.Errorf("still built for the old release, not %s (the new repository lacks them, or their build failed): %s. Install #3 would remove the FreeBSD %d libraries they need. Rebuild them from ports (portmaster, or make -C /usr/ports/ORIGIN reinstall), remove the ones you no longer need (pkg delete), or run zupgrade apply --compat-libs to install %s, which keeps those libraries; then run zupgrade apply again",
			abi, strings.Join(names, ", "), from.Major, pkgng.CompatPackage(from.Major))
	}
	if compat {
		return nil
	}
	sc.note("still built for FreeBSD %d: %s; installing %s", from.Major, strings.Join(names, ", "), pkgng.CompatPackage(from.Major))
	return sc.runPackageCommand(ctx, cmdOf(pkgng.CompatInstallCommand(from.Major)))
}

// runPackageCommand runs one pkg or portmaster command and explains a
// failure with what pkg said.
func (sc *stepContext) runPackageCommand(ctx context.Context, c Cmd) error {
	res, err := sc.exec(ctx, c, pkgng.StallLine)
	if err != nil {
		return err
	}
	if res.OK() {
		return nil
	}
	o := pkgng.Classify(res.Stdout, res.Stderr, res.ExitCode)
	why := strings.Join(o.Evidence, " / ")
	if why == "" {
		why = lastLine(res.Stderr, res.Stdout)
	}
	return fmt.Errorf("%s: exit status %d: %s", host.QuoteArgs(c.Args), res.ExitCode, why)
}

// lastLine is the last non-empty line of the first output that has one.
func lastLine(outs ...[]byte) string {
	for _, out := range outs {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
			return l
		}
	}
	return ""
}

// poolCommands splits the zpool-upgrade step into its pool commands and
// the boot code commands that follow them.
func (sc *stepContext) poolCommands() (pool, boot []Cmd) {
	for _, c := range sc.step.Commands {
		if len(c.Args) > 0 && c.Args[0] == "zpool" {
			pool = append(pool, c)
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
	for _, c := range pool {
		legacy, enable, _, err := sc.poolFeatures(ctx, c.Args[len(c.Args)-1])
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
	for _, c := range pool {
		name := c.Args[len(c.Args)-1]
		legacy, enable, leave, err := sc.poolFeatures(ctx, name)
		if err != nil {
			return err
		}
		switch {
		case legacy || (len(enable) > 0 && len(leave) == 0):
			if _, err := sc.run(ctx, c); err != nil {
				return err
			}
		case len(enable) > 0:
			sc.note("%s: leaving %s disabled: the FreeBSD loader cannot read them once active, or the pool's compatibility property excludes them", name, strings.Join(leave, ", "))
			for _, f := range enable {
				if _, err := sc.run(ctx, Cmd{Args: []string{"zpool", "set", "feature@" + f + "=enabled", name}}); err != nil {
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
		root := c.Args[len(c.Args)-1]
		for _, fs := range fl.OutOfDate {
			if fs.Name == root || strings.HasPrefix(fs.Name, root+"/") {
				return false, nil
			}
		}
	}
	return true, nil
}

// readFile reads a host file through the runner.
func (sc *stepContext) readFile(ctx context.Context, p string) ([]byte, error) {
	return host.Output(ctx, sc.e.Runner, "cat", p)
}

// readBlock is dd's block size for reading devices: a multiple of every
// sector size in use (512 and 4096), as reads of a GEOM provider must be.
const readBlock = 4096

// readDevice reads at least the first n bytes of a device through dd.
func (sc *stepContext) readDevice(ctx context.Context, dev string, n int) ([]byte, error) {
	blocks := (n + readBlock - 1) / readBlock
	out, err := host.Output(ctx, sc.e.Runner, "dd", "if="+dev, "bs="+strconv.Itoa(readBlock), "count="+strconv.Itoa(blocks))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readBack reads boot code back from a device of a boot-pool disk. A read
// that fails because the disk went away meanwhile says so, with what to do
// about it (the *goneDiskError of liveBootDisks), not dd's message.
func (sc *stepContext) readBack(ctx context.Context, dev string, n int) ([]byte, error) {
	data, err := sc.readDevice(ctx, dev, n)
	if err == nil {
		return data, nil
	}
	if _, gone := sc.liveBootDisks(ctx); gone != nil {
		return nil, gone
	}
	return nil, err
}

// bootcodeCurrent reads back every boot partition and ESP loader of the
// boot pool's disks (those the pool still has, see liveBootDisks) and
// compares them with /boot.
func (sc *stepContext) bootcodeCurrent(ctx context.Context) (bool, error) {
	disks, err := sc.liveBootDisks(ctx)
	if err != nil {
		return false, err
	}
	var gz, pm []byte
	for _, d := range disks {
		for _, bp := range d.BootPartitions {
			if gz == nil {
				var err error
				if gz, err = sc.readFile(ctx, gptzfsboot); err != nil {
					return false, err
				}
				if pm, err = sc.readFile(ctx, pmbr); err != nil {
					return false, err
				}
			}
			got, err := sc.readBack(ctx, "/dev/"+bp.Name, len(gz))
			if err != nil {
				return false, err
			}
			if !bytes.HasPrefix(got, gz) {
				return false, nil
			}
			mbr, err := sc.readBack(ctx, "/dev/"+d.Name, 446)
			if err != nil {
				return false, err
			}
			n := min(446, len(pm))
			if len(mbr) < n || !bytes.Equal(mbr[:n], pm[:n]) {
				return false, nil
			}
		}
	}
	for _, pool := range []bool{true, false} {
		if !pool {
			disks = otherESPs(&sc.plan.Facts)
		}
		for _, d := range disks {
			for _, e := range d.ESPs {
				if !sc.espWritable(e) {
					continue
				}
				ok, err := sc.espCurrent(ctx, e, pool)
				if err != nil || !ok {
					return false, err
				}
			}
		}
	}
	return true, nil
}

// bootcodeDone is the boot code step's done check: the boot code is
// current everywhere, and no boot entry the step makes stands first in
// BootOrder (efibootmgr -c puts it there; an interrupted step may not have
// put the order back yet). A disk that is gone leaves the step to do, so
// that it starts and says what to do about it.
func (sc *stepContext) bootcodeDone(ctx context.Context) (bool, error) {
	ok, err := sc.bootcodeCurrent(ctx)
	var gone *goneDiskError
	if errors.As(err, &gone) {
		return false, nil
	}
	if err != nil || !ok {
		return false, err
	}
	var labels []string
	for _, c := range sc.step.Commands {
		if a := c.Args; a[0] == "efibootmgr" && slices.Contains(a, "-c") {
			labels = append(labels, a[slices.Index(a, "-L")+1])
		}
	}
	if len(labels) == 0 {
		return true, nil
	}
	eb, err := sc.efiBoot(ctx)
	if err != nil {
		return false, err
	}
	if len(eb.BootOrder) < 2 {
		return true, nil
	}
	for _, en := range eb.Entries {
		if en.Num == eb.BootOrder[0] && slices.Contains(labels, en.Label) {
			return false, nil
		}
	}
	return true, nil
}

// espWritable reports whether the plan writes loaders to the ESP.
func (sc *stepContext) espWritable(e facts.ESP) bool {
	if e.Format == "empty" {
		return sc.plan.Options.FormatESPs && !isLegacyESP(e)
	}
	return true
}

// espMountPoint is where the boot code step reads and writes the ESP:
// where it is mounted already, else a directory of the state directory
// (as espCommands mounts it).
func (sc *stepContext) espMountPoint(e facts.ESP) string {
	if e.MountPoint != "" {
		return e.MountPoint
	}
	return path.Join(sc.plan.Options.StateDir, "mnt", strings.ReplaceAll(e.Name, "/", "_"))
}

// espMount returns where the ESP can be read, mounting it on the state
// directory when it is not mounted; unmount undoes only what it did.
func (sc *stepContext) espMount(ctx context.Context, e facts.ESP) (mnt string, unmount func(), err error) {
	if e.MountPoint != "" {
		return e.MountPoint, func() {}, nil
	}
	mnt = sc.espMountPoint(e)
	if _, err := sc.run(ctx, Cmd{Args: []string{"mkdir", "-p", mnt}}); err != nil {
		return "", nil, err
	}
	if err := sc.mountESP(ctx, Cmd{Args: []string{"mount_msdosfs", "/dev/" + e.Name, mnt}}); err != nil {
		return "", nil, err
	}
	return mnt, func() { sc.run(context.WithoutCancel(ctx), Cmd{Args: []string{"umount", mnt}}) }, nil
}

// mountESP runs mount_msdosfs DEV MNT. When it fails because a run that
// was killed left something mounted on MNT (the state directory's own
// mount point), that is unmounted and the mount tried once more; umount
// MNT can only take away what is mounted on that very directory.
func (sc *stepContext) mountESP(ctx context.Context, c Cmd) error {
	_, err := sc.run(ctx, c)
	if err == nil {
		return nil
	}
	mnt := c.Args[len(c.Args)-1]
	if _, uerr := sc.run(ctx, Cmd{Args: []string{"umount", mnt}}); uerr != nil {
		return err
	}
	_, err = sc.run(ctx, c)
	return err
}

// espCurrent reads back the programs the bootcode step keeps on ESP e:
// each FreeBSD program there must equal the new one of its kind, and
// FreeBSD's loader on a boot-pool disk's ESP must be there.
func (sc *stepContext) espCurrent(ctx context.Context, e facts.ESP, pool bool) (bool, error) {
	mnt, unmount, err := sc.espMount(ctx, e)
	if err != nil {
		return false, err
	}
	defer unmount()
	for _, c := range espCopies(&sc.plan.Facts, e, pool) {
		got, err := sc.probe(ctx, "cat", path.Join(mnt, c.path))
		if err != nil {
			return false, err
		}
		kind := ""
		if got.OK() {
			kind = gpart.EFIProgramKind(got.Stdout)
		}
		switch {
		case c.create && c.path == gpart.ESPLoaderPath && kind != gpart.ProgramLoader:
			return false, nil
		case kind != kindOf(c.src):
			continue
		}
		want, err := sc.readFile(ctx, c.src)
		if err != nil {
			return false, fmt.Errorf("%s on %s is FreeBSD's %s, and %s cannot be read to compare it: %w", c.path, e.Name, kind, c.src, err)
		}
		if !bytes.Equal(got.Stdout, want) {
			return false, nil
		}
	}
	return true, nil
}

// runBootcode checks that every disk of the plan is still there and every
// boot partition can hold the new boot code, then writes it, then reads it
// back.
func (sc *stepContext) runBootcode(ctx context.Context) error {
	if err := sc.writeBootcode(ctx, sc.step.Commands); err != nil {
		return err
	}
	ok, err := sc.bootcodeCurrent(ctx)
	if err != nil {
		return fmt.Errorf("reading boot code back: %w", err)
	}
	if !ok {
		return fmt.Errorf("boot code read back from the disks differs from /boot; the disks may be failing: check them before rebooting")
	}
	return nil
}

// writeBootcode runs the boot code commands for the disks the pool still
// has, once each of them is known to be there and to have room for it.
func (sc *stepContext) writeBootcode(ctx context.Context, cmds []Cmd) error {
	disks, err := sc.liveBootDisks(ctx)
	if err != nil {
		return err
	}
	cmds = sc.bootCommandsFor(cmds, disks)
	gz, err := sc.readFile(ctx, gptzfsboot)
	if err != nil {
		return err
	}
	for _, d := range disks {
		for _, bp := range d.BootPartitions {
			p := gpart.Partition{Name: bp.Name, Index: bp.Index, Type: gpart.TypeFreeBSDBoot, MediaSize: bp.Size}
			if err := gpart.CheckPartcodeFits(p, int64(len(gz))); err != nil {
				return fmt.Errorf("%v; nothing was written", err)
			}
		}
	}
	src := map[string][]byte{}
	source := func(p string) ([]byte, error) {
		if b, ok := src[p]; ok {
			return b, nil
		}
		b, err := sc.readFile(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w; nothing more was written: without it the program there cannot be updated, and zupgrade refuses the pool upgrade until it is (restore %s from the release's base.txz, or recreate that ESP as a 260M FAT32 one holding %s)", p, err, p, gpart.ESPLoaderPath)
		}
		src[p] = b
		return b, nil
	}
	var mounted []string
	defer func() {
		for _, m := range mounted {
			sc.run(context.WithoutCancel(ctx), Cmd{Args: []string{"umount", m}})
		}
	}()
	copied := map[string]bool{}
	spaceChecked := map[string]bool{}
	for _, c := range cmds {
		a := c.Args
		switch {
		case a[0] == "cp" && (a[1] == loaderEFI || a[1] == boot1EFI):
			run, err := sc.shouldCopy(ctx, a[1], a[len(a)-1], source)
			if err != nil {
				return err
			}
			if !run {
				continue
			}
			// Before the first copy onto an ESP: room for the new program
			// beside the old one, twice, and some slack (FAT has no
			// journal; a copy that runs out of space leaves a torn file).
			mnt := sc.espMountOf(a[len(a)-1])
			if !spaceChecked[mnt] {
				spaceChecked[mnt] = true
				data, _ := source(a[1])
				if err := sc.checkESPSpace(ctx, mnt, len(data)); err != nil {
					return err
				}
			}
			copied[a[len(a)-1]] = true
		case a[0] == "mv" && strings.HasSuffix(a[1], ".new"):
			if !copied[a[1]] {
				continue
			}
			delete(copied, a[1])
		case a[0] == "efibootmgr" && slices.Contains(a, "-c"):
			if err := sc.createEntry(ctx, c); err != nil {
				return err
			}
			continue
		case a[0] == "efibootmgr" && slices.Contains(a, "-o"):
			// Run by createEntry, with the order as it really was.
			continue
		case a[0] == "newfs_msdos":
			// Format only what still holds no file system: never a
			// partition that gained one since the plan (or in an earlier
			// attempt of this step).
			dev := a[len(a)-1]
			out, err := host.Output(ctx, sc.e.Runner, gpart.FileSArgv(dev)...)
			if err != nil {
				return err
			}
			res, err := gpart.ParseFileS(string(out))
			if err != nil {
				return err
			}
			if len(res) != 1 || res[0].Content != gpart.ContentNoFileSystem {
				sc.note("%s holds a file system now: not formatted", dev)
				continue
			}
		case a[0] == "umount":
			mounted = slices.DeleteFunc(mounted, func(m string) bool { return m == a[1] })
		case a[0] == "mount_msdosfs":
			if err := sc.mountESP(ctx, c); err != nil {
				return sc.explainVanished(ctx, c, err)
			}
			mounted = append(mounted, a[len(a)-1])
			continue
		}
		if _, err := sc.run(ctx, c); err != nil {
			return sc.explainVanished(ctx, c, err)
		}
	}
	return nil
}

// createEntry runs efibootmgr -c for the ESP the command names, unless an
// entry starts FreeBSD's loader there already (running the step again
// must not pile up entries), and puts BootOrder back as it was with the
// new entry last: efibootmgr -c puts it first (add_to_boot_order). An
// entry of that label found first in BootOrder (the step was interrupted
// between the two) is moved last.
func (sc *stepContext) createEntry(ctx context.Context, c Cmd) error {
	a := c.Args
	label := a[slices.Index(a, "-L")+1]
	esp := sc.espMountedOn(sc.espMountOf(a[slices.Index(a, "-l")+1]))
	eb, err := sc.efiBoot(ctx)
	if err != nil {
		return err
	}
	before := eb.BootOrder
	if facts.EFIFrom(eb).HasLoaderEntry(esp) {
		if len(before) < 2 {
			return nil
		}
		for _, en := range eb.Entries {
			if en.Num == before[0] && en.Label == label {
				_, err := sc.run(ctx, Cmd{Args: []string{"efibootmgr", "-o", strings.Join(append(slices.Clone(before[1:]), before[0]), ",")}})
				return err
			}
		}
		return nil
	}
	if _, err := sc.run(ctx, c); err != nil {
		return err
	}
	after, err := sc.efiBoot(ctx)
	if err != nil {
		return err
	}
	for _, n := range after.BootOrder {
		if !slices.Contains(before, n) {
			_, err := sc.run(ctx, Cmd{Args: []string{"efibootmgr", "-o", strings.Join(append(slices.Clone(before), n), ",")}})
			return err
		}
	}
	return nil
}

// shouldCopy decides whether the step copies src over the file that
// newPath (FILE.new) is renamed to: a FreeBSD program there is replaced
// only by the new one of its kind, and only when it differs; another
// system's program is left alone; a missing file is written only where
// the step creates it (FreeBSD's loader and the fallback on the ESP of a
// boot-pool disk).
func (sc *stepContext) shouldCopy(ctx context.Context, src, newPath string, source func(string) ([]byte, error)) (bool, error) {
	final := strings.TrimSuffix(newPath, ".new")
	res, err := sc.probe(ctx, "cat", final)
	if err != nil {
		return false, err
	}
	create := sc.createsFile(src, final)
	if !res.OK() || len(res.Stdout) == 0 {
		// Missing, or left empty by a power cut during a FAT write.
		return create, nil
	}
	own := create && strings.HasSuffix(strings.ToLower(final), "/"+gpart.ESPLoaderPath)
	switch kind := gpart.EFIProgramKind(res.Stdout); {
	case own:
		// FreeBSD's own loader path is written whatever it holds.
	case kind == "":
		if create {
			sc.note("%s is not FreeBSD's loader: left alone", final)
		}
		return false, nil
	case kind != kindOf(src):
		return false, nil
	}
	want, err := source(src)
	if err != nil {
		return false, err
	}
	return !bytes.Equal(res.Stdout, want), nil
}

// createsFile reports whether the plan writes file (on a mounted ESP) even
// when it is missing: FreeBSD's loader and the fallback on the ESP of a
// boot-pool disk, not a legacy one.
func (sc *stepContext) createsFile(src, file string) bool {
	mnt := sc.espMountOf(file)
	e, pool := sc.espAt(mnt)
	if !pool || isLegacyESP(e) {
		return false
	}
	for _, c := range espCopies(&sc.plan.Facts, e, true) {
		if c.create && c.src == src && strings.EqualFold(path.Join(mnt, c.path), file) {
			return true
		}
	}
	return false
}

// espAt returns the plan's ESP that the step reads or writes on mnt, and
// whether it is on a disk of the boot pool.
func (sc *stepContext) espAt(mnt string) (facts.ESP, bool) {
	for _, pool := range []bool{true, false} {
		disks := sc.bootDisks()
		if !pool {
			disks = otherESPs(&sc.plan.Facts)
		}
		for _, d := range disks {
			for _, e := range d.ESPs {
				if sc.espMountPoint(e) == mnt {
					return e, pool
				}
			}
		}
	}
	return facts.ESP{}, false
}

// espMountedOn returns the plan's ESP that the step mounts on mnt.
func (sc *stepContext) espMountedOn(mnt string) facts.ESP {
	e, _ := sc.espAt(mnt)
	return e
}

// efiBoot reads the firmware's boot variables now.
func (sc *stepContext) efiBoot(ctx context.Context) (*gpart.EFIBoot, error) {
	out, err := host.Output(ctx, sc.e.Runner, "efibootmgr", "-v")
	if err != nil {
		return nil, err
	}
	return gpart.ParseEfibootmgr(string(out))
}

// espMountOf returns the mount point of an ESP from the path of a file
// the plan copies there (MNT/efi/freebsd/loader.efi.new): the longest
// mount point of the plan's ESPs that holds it.
func (sc *stepContext) espMountOf(p string) string {
	best := ""
	for _, pool := range []bool{true, false} {
		disks := sc.bootDisks()
		if !pool {
			disks = otherESPs(&sc.plan.Facts)
		}
		for _, d := range disks {
			for _, e := range d.ESPs {
				for _, mnt := range []string{e.MountPoint, path.Join(sc.plan.Options.StateDir, "mnt", strings.ReplaceAll(e.Name, "/", "_"))} {
					if mnt != "" && strings.HasPrefix(p, mnt+"/") && len(mnt) > len(best) {
						best = mnt
					}
				}
			}
		}
	}
	if best == "" {
		return path.Dir(p)
	}
	return best
}

// espSlack is the room an ESP needs beyond two copies of the loader.
const espSlack = 64 << 10

// checkESPSpace refuses to write to an ESP without room for two loaders
// and some slack.
func (sc *stepContext) checkESPSpace(ctx context.Context, mnt string, loaderSize int) error {
	out, err := host.Output(ctx, sc.e.Runner, gpart.DfArgv(mnt)...)
	if err != nil {
		return err
	}
	avail, err := gpart.ParseDfAvail(string(out))
	if err != nil {
		return err
	}
	if need := uint64(2*loaderSize + espSlack); avail < need {
		return fmt.Errorf("the ESP mounted on %s has %s free, and writing the loader safely needs %s (twice its size and 64 KiB); nothing was written to it: remove what it does not need (old loaders, vendor files), then run zupgrade apply again",
			mnt, facts.HumanBytes(avail), facts.HumanBytes(need))
	}
	return nil
}

// bootDisks are the disks of the boot pool as the plan knows them.
func (sc *stepContext) bootDisks() []facts.Disk {
	return builder{f: &sc.plan.Facts}.bootDisks()
}
