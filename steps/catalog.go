// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"fmt"
	"path"
	"strings"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/gpart"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/pkgng"
	"github.com/zupgrade/zupgrade/zpool"
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
	if t.mode == "patch" {
		p.Steps = b.patchSteps()
	} else {
		p.Steps = b.upgradeSteps()
	}
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
}

func cmdOf(c host.Command) Cmd {
	return Cmd{Args: c.Args, Env: c.Env, Stdin: string(c.Stdin), Terminal: c.Dialog != nil}
}

func (b builder) targetName() string {
	if b.t.mode == "patch" {
		return b.t.current.Base().String() + " (newest patch level)"
	}
	return b.t.to.String()
}

func (b builder) preflightStep() Step {
	return Step{ID: StepPreflight, Title: "Preflight checks",
		Verify: "every check above passes again when apply starts (the host is inspected anew)"}
}

func (b builder) quirkStep() Step {
	s := Step{ID: StepQuirkMeta, Title: "Patch freebsd-update's metadata path check (8.x integrity-check bug)",
		Verify: "freebsd-update's metadata path pattern accepts % and @"}
	if b.f.Update.MetadataPattern != "old" {
		s.Skip = "not needed: this freebsd-update accepts today's metadata"
		return s
	}
	s.Commands = append(s.Commands, Cmd{Args: []string{"mkdir", "-p", path.Join(b.opts.StateDir, "backup")}})
	for _, c := range freebsdupdate.MetadataPathFix(path.Join(b.opts.StateDir, "backup", "freebsd-update.orig")) {
		s.Commands = append(s.Commands, cmdOf(c))
	}
	return s
}

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

func (b builder) backupStep() Step {
	name := b.backupName()
	s := Step{ID: StepBackup, Title: "Backup boot environment " + name}
	if b.f.BootEnvs.Tool == "bectl" && b.f.BootEnvs.Supported {
		args, err := bootenv.CreateArgs(name)
		if err != nil {
			s.Skip = err.Error()
			return s
		}
		s.Commands = []Cmd{{Args: args}}
		s.Verify = "bectl list -H shows " + name
		s.Notes = []string{"zupgrade rollback activates it and reboots"}
		return s
	}
	ds := b.f.RootDataset
	s.Title = "Backup snapshot " + ds + "@" + name
	args, err := bootenv.SnapshotArgs(ds, name)
	if err != nil {
		s.Skip = err.Error()
		return s
	}
	s.Commands = []Cmd{{Args: args}}
	s.Verify = "zfs list -t snapshot shows " + ds + "@" + name
	s.Notes = []string{"no boot environments here: zupgrade rollback explains how to return to this snapshot"}
	return s
}

func (b builder) upgradeSteps() []Step {
	to := b.targetName()
	install := cmdOf(b.script().InstallCommand())
	var upgrade Cmd
	if c, err := b.script().UpgradeCommand(b.t.to); err == nil {
		upgrade = cmdOf(c)
	}
	steps := []Step{
		b.preflightStep(),
		b.quirkStep(),
		b.backupStep(),
		{ID: StepUpgrade, Title: "Fetch the upgrade to " + to, Commands: []Cmd{upgrade},
			Verify: "freebsd-update updatesready exits 0 and the fetched metadata is for " + to,
			Notes:  []string{"unattended: runs on a pseudo-terminal where zupgrade answers its questions (pager off); a file it cannot merge stops the run and is named"}},
		{ID: StepInstallKern, Title: "Install the new kernel and /boot (install 1 of 3)", Commands: []Cmd{install},
			Verify: "the kerneldone marker exists, or freebsd-version -k is " + to},
		b.bootcodeStep(StepBootcode, "Write the new boot code to every boot-pool disk"),
		b.rebootStep(StepRebootKernel, "Reboot into the new kernel", "uname -r is "+to+" (the new kernel is running)"),
		{ID: StepInstallWorld, Title: "Install the new world (install 2 of 3)", Commands: []Cmd{install},
			Verify: "freebsd-version -u is " + to},
		b.packagesStep(),
		{ID: StepInstallLibs, Title: "Remove old libraries (install 3 of 3)", Commands: []Cmd{withWhen(install, "freebsd-update asked for it after the world install")},
			Verify: "no freebsd-update install is pending"},
	}
	steps = append(steps, b.poolSteps()...)
	steps = append(steps, b.rebootStep(StepRebootFinal, "Final reboot and verification",
		"freebsd-version -kru all print "+to+", the boot pool is healthy, boot code is current on every disk"))
	return steps
}

func (b builder) patchSteps() []Step {
	install := cmdOf(b.script().InstallCommand())
	fetch := cmdOf(b.script().FetchCommand())
	bc := b.bootcodeStep(StepBootcode, "Write boot code to every boot-pool disk if /boot changed")
	bc.Notes = append(bc.Notes, "skipped when the boot files on every disk already equal /boot")
	rb := b.rebootStep(StepRebootFinal, "Reboot if the kernel changed", "uname -r equals freebsd-version -k")
	rb.Notes = append(rb.Notes, "skipped when the patches did not touch the kernel")
	backup := b.backupStep()
	backup.Notes = append(backup.Notes, "skipped when fetch found nothing to install")
	return []Step{
		b.preflightStep(),
		b.quirkStep(),
		{ID: StepFetch, Title: "Fetch patches for " + b.t.current.Base().String(), Commands: []Cmd{fetch},
			Verify: "freebsd-update updatesready exits 0, or nothing is published beyond the installed patch level"},
		backup,
		{ID: StepInstall, Title: "Install the patches", Commands: []Cmd{install},
			Verify: "no freebsd-update install is pending"},
		bc,
		rb,
	}
}

// script says how to invoke this host's freebsd-update.
func (b builder) script() freebsdupdate.Script {
	return freebsdupdate.Script{NoCronOption: b.f.Update.NoCronOption}
}

func withWhen(c Cmd, when string) Cmd {
	c.When = when
	return c
}

func (b builder) rebootStep(id, title, verify string) Step {
	return Step{ID: id, Title: title, Checkpoint: true, Verify: verify,
		Commands: append(hookCommands(b.f, b.opts.StateDir, b.opts.LogDir), Cmd{Args: []string{"shutdown", "-r", "now"}}),
		Notes: []string{"zupgrade copies itself to " + hookBinary + " first (mkdir -p, install -m 0555) unless that file is the running zupgrade already",
			"after boot, the rc.d hook runs " + hookBinary + " apply --resume; with --no-reboot apply stops here with exit 3"}}
}

// sysrcSince is the first release with sysrc(8) in the base system.
var sysrcSince = freebsdupdate.MustParseRelease("9.2-RELEASE")

// hasSysrc reports whether the host's userland has sysrc(8).
func hasSysrc(f *facts.Facts) bool {
	u, err := freebsdupdate.ParseRelease(f.Release.Userland)
	return err != nil || !u.Before(sysrcSince)
}

// hookPackagedWhen is the condition of the command that installs the rc.d
// script: the checkpoint leaves a package's script as it is.
const hookPackagedWhen = "no package installed it (pkg which -q " + rcScript + ")"

// hookCommands install the boot hook unless a package did, and enable it
// for this run in /etc/rc.conf.d/zupgrade: with sysrc -f where the system
// has sysrc, else by installing the whole file; rc.subr's load_rc_config
// reads /etc/rc.conf.d/NAME on every release zupgrade knows.
func hookCommands(f *facts.Facts, stateDir, logDir string) []Cmd {
	cs := []Cmd{
		{Args: []string{"install", "-m", "0555", path.Join(stateDir, "rc.d", "zupgrade"), rcScript}, When: hookPackagedWhen},
		{Args: []string{"mkdir", "-p", path.Dir(rcConfD)}},
	}
	if hasSysrc(f) {
		return append(cs, Cmd{Args: []string{"sysrc", "-f", rcConfD, "zupgrade_enable=YES", "zupgrade_state_dir=" + stateDir, "zupgrade_log_dir=" + logDir}})
	}
	return append(cs, Cmd{Args: []string{"install", "-m", "0644", path.Join(stateDir, "rc.d", "zupgrade.conf"), rcConfD}})
}

// bootcodeStep writes BIOS boot code to every freebsd-boot partition and the
// loader to every formatted ESP of every disk of the boot pool.
func (b builder) bootcodeStep(id, title string) Step {
	s := Step{ID: id, Title: title,
		Verify: "read back: each freebsd-boot partition starts with " + gptzfsboot + ", sector 0 of each disk holds " + pmbr + "'s boot code, each ESP's loaders equal " + loaderEFI}
	fallback := facts.FallbackName(b.f.Machine)
	order := b.bootOrder()
	for _, d := range b.bootDisks() {
		for _, bp := range d.BootPartitions {
			args, err := bootcodeArgv(d, bp)
			if err != nil {
				s.Notes = append(s.Notes, err.Error())
				continue
			}
			s.Commands = append(s.Commands, Cmd{Args: args})
		}
		for _, e := range d.ESPs {
			switch {
			case isLegacyESP(e) && e.Format == "empty":
				s.Notes = append(s.Notes, fmt.Sprintf("%s (ESP of %s) is a %s legacy boot1 partition holding no file system: skipped", e.Name, d.Name, facts.HumanBytes(e.Size)))
				continue
			case isLegacyESP(e):
				s.Notes = append(s.Notes, fmt.Sprintf("%s (ESP of %s) is a %s legacy boot1 partition: its boot1.efi is replaced from %s (loader.efi does not fit there)", e.Name, d.Name, facts.HumanBytes(e.Size), boot1EFI))
			case e.Format == "empty" && !b.opts.FormatESPs:
				s.Notes = append(s.Notes, fmt.Sprintf("%s (ESP of %s) is not formatted: skipped (--format-esps formats it)", e.Name, d.Name))
				continue
			case e.Format == "empty":
				s.Commands = append(s.Commands, Cmd{Args: newfsMsdosArgs(e), When: "file -s still finds no file system on it"})
			case e.Format == "unknown":
				s.Notes = append(s.Notes, fmt.Sprintf("%s (ESP of %s): file system unknown (%s); apply checks it before writing", e.Name, d.Name, e.FormatText))
			}
			// Give a disk without a boot entry for FreeBSD's loader one,
			// so that the firmware starts it there when the others fail.
			entry := !isLegacyESP(e) && b.f.BootMethod == "UEFI" && b.f.EFI != nil && !b.f.EFI.HasLoaderEntry(e)
			s.Commands = append(s.Commands, espCommands(e, d.Name, b.opts.StateDir, espCopies(b.f, e, true), entry, &order)...)
		}
	}
	for _, d := range otherESPs(b.f) {
		for _, e := range d.ESPs {
			s.Commands = append(s.Commands, espCommands(e, d.Name, b.opts.StateDir, espCopies(b.f, e, false), false, &order)...)
		}
	}
	if len(s.Commands) == 0 {
		s.Skip = "no boot partitions found on the boot pool's disks"
	}
	if fallback != "" {
		s.Notes = append(s.Notes, "efi/boot/"+fallback+" is replaced only when the one there is FreeBSD's loader (another system may own it)")
	}
	if len(otherESPs(b.f)) > 0 {
		s.Notes = append(s.Notes, "on ESPs outside the boot pool only FreeBSD programs found there are replaced, each by the new one of its kind (loader.efi, boot1.efi)")
	}
	return s
}

// bootOrder is the firmware's BootOrder and the entries it knows, as the
// plan's efibootmgr -c and -o commands change them.
type bootOrder struct {
	order, used []string
}

// bootOrder returns the BootOrder and entry numbers of the facts.
func (b builder) bootOrder() bootOrder {
	var o bootOrder
	if b.f.EFI != nil {
		o.order = append(o.order, b.f.EFI.BootOrder...)
		for _, e := range b.f.EFI.Entries {
			o.used = append(o.used, e.Number)
		}
	}
	return o
}

// efibootmgrCreateArgs adds an active boot entry for the loader on the ESP
// mounted on mnt.
func efibootmgrCreateArgs(mnt, disk string) []string {
	return []string{"efibootmgr", "-a", "-c", "-l", path.Join(mnt, gpart.ESPLoaderPath), "-L", "FreeBSD " + disk}
}

// newfsMsdosArgs formats an ESP as bsdinstall does (FAT32, one sector per
// cluster).
func newfsMsdosArgs(e facts.ESP) []string {
	return []string{"newfs_msdos", "-F", "32", "-c", "1", "/dev/" + e.Name}
}

// espCommands writes the copies onto an ESP: mounted where it already is,
// or on a directory of the state dir; each file is written beside its
// target and renamed over it, so that a power cut leaves the old or the new
// program, never half of one. With entry, a boot entry for FreeBSD's loader
// there is made and BootOrder put back as it was with the new entry last:
// efibootmgr -c puts it first (add_to_boot_order), which would change the
// disk the firmware starts, and the new entry is there for when the
// others fail.
func espCommands(e facts.ESP, disk, stateDir string, copies []espCopy, entry bool, order *bootOrder) []Cmd {
	mnt := e.MountPoint
	var cs []Cmd
	if mnt == "" {
		mnt = path.Join(stateDir, "mnt", strings.ReplaceAll(e.Name, "/", "_"))
		cs = append(cs,
			Cmd{Args: []string{"mkdir", "-p", mnt}},
			Cmd{Args: []string{"mount_msdosfs", "/dev/" + e.Name, mnt}})
	}
	for _, c := range copies {
		target := path.Join(mnt, c.path)
		cp := Cmd{Args: []string{"cp", c.src, target + ".new"}}
		if c.create {
			cs = append(cs, Cmd{Args: []string{"mkdir", "-p", path.Dir(target)}})
		} else {
			cp.When = target + " is FreeBSD's " + kindOf(c.src)
		}
		cs = append(cs, cp, Cmd{Args: []string{"mv", target + ".new", target}, When: cp.When})
	}
	if entry {
		num := nextBootNum(order.used)
		order.used = append(order.used, num)
		order.order = append(order.order, num)
		cs = append(cs,
			Cmd{Args: efibootmgrCreateArgs(mnt, disk), When: "no boot entry starts efi/freebsd/loader.efi on " + e.Name},
			Cmd{Args: []string{"efibootmgr", "-o", strings.Join(order.order, ",")}, When: "after efibootmgr -c: BootOrder as it was, the new entry last"})
	}
	cs = append(cs, Cmd{Args: []string{"sync"}})
	if e.MountPoint == "" {
		cs = append(cs, Cmd{Args: []string{"umount", mnt}})
	}
	return cs
}

// bootcodeArgv is gpart's bootcode command for a freebsd-boot partition
// of a disk, built (and guarded against any other partition type) by package
// gpart.
func bootcodeArgv(d facts.Disk, bp facts.Partition) ([]string, error) {
	p := gpart.Partition{Name: bp.Name, Index: bp.Index, Type: gpart.TypeFreeBSDBoot}
	t := gpart.BootTargets{Geom: d.Name, Scheme: d.Scheme, BootPartitions: []gpart.Partition{p}}
	return t.BootcodeArgv(p)
}

// bootDisks returns the disks of the boot pool's members, each once, in
// member order.
func (b builder) bootDisks() []facts.Disk {
	pool := bootPool(b.f)
	if pool == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []facts.Disk
	for _, m := range pool.Members {
		if m.Disk == "" || seen[m.Disk] {
			continue
		}
		seen[m.Disk] = true
		if d := diskByName(b.f, m.Disk); d != nil {
			out = append(out, *d)
		}
	}
	return out
}

// packagesTool is the tool the package step runs: --packages, or for
// "auto" portmaster when it is installed and software was built from
// ports, pkg otherwise.
func (b builder) packagesTool() string {
	if b.opts.Packages != "auto" {
		return b.opts.Packages
	}
	if b.f.Pkg.Portmaster && len(b.f.Pkg.FromPorts) > 0 {
		return "portmaster"
	}
	return "pkg"
}

func (b builder) packagesStep() Step {
	s := Step{ID: StepPackages, Title: "Upgrade third-party packages for the new ABI",
		Verify: "pkg runs and every installed package is built for the new ABI"}
	tool := b.packagesTool()
	switch {
	case tool == "none":
		s.Skip = "--packages none: third-party software is the admin's to rebuild before the old libraries go"
	case tool == "portmaster":
		s.Commands = []Cmd{cmdOf(pkgng.PortmasterCommand())}
		if b.opts.Packages == "auto" {
			s.Notes = append(s.Notes, fmt.Sprintf("portmaster, because software was built from ports (%s): it uses a package when there is one and builds the port otherwise", strings.Join(b.f.Pkg.FromPorts, ", ")))
		}
	case !b.f.Pkg.Activated:
		s.Skip = "pkg is not in use on this host"
	default:
		s.Commands = []Cmd{cmdOf(pkgng.BootstrapCommand()), cmdOf(pkgng.UpgradeCommand())}
		s.Notes = []string{"IGNORE_OSVERSION and ASSUME_ALWAYS_YES are set on purpose: pkg's OSVERSION question would stall an unattended run"}
		if len(b.f.Pkg.FromPorts) > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("built from ports: %s; pkg upgrade -f replaces those the repository carries with its builds (port options are lost) and leaves the others built for the old release; --packages portmaster rebuilds them from ports", strings.Join(b.f.Pkg.FromPorts, ", ")))
		}
	}
	if b.t.mode == "upgrade" && b.t.move != freebsdupdate.MoveMajor && s.Skip == "" {
		s.Notes = append(s.Notes, "a minor upgrade keeps the ABI: packages are upgraded only if pkg reports they need it")
	}
	if b.t.mode == "upgrade" && b.t.move == freebsdupdate.MoveMajor && s.Skip == "" {
		old := b.t.current.Major
		if b.opts.CompatLibs {
			c := cmdOf(pkgng.CompatInstallCommand(old))
			c.When = fmt.Sprintf("packages remain built for FreeBSD %d after the upgrade (--compat-libs)", old)
			s.Commands = append(s.Commands, c)
		} else {
			s.Notes = append(s.Notes, fmt.Sprintf("packages still built for FreeBSD %d afterwards (missing from the new repository) stop the run before install #3 removes their libraries; --compat-libs installs %s instead", old, pkgng.CompatPackage(old)))
		}
	}
	return s
}

// poolSteps are the one-way steps: zpool upgrade of the boot pool (and any
// extra pools asked for), gated on the loader being able to read every
// feature it enables, then boot code again, then zfs upgrade.
func (b builder) poolSteps() []Step {
	zp := Step{ID: StepZpoolUpgrade, Title: "Upgrade pool features (one-way)",
		Verify: "every feature the step enables shows as enabled or active in zpool get, and none the loader cannot read is active"}
	zf := Step{ID: StepZfsUpgrade, Title: "Upgrade file system versions (one-way)",
		Verify: "zfs upgrade lists no file system below the current version"}
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
		return []Step{zp, zf}
	case pool == nil:
		zp.Skip = "no boot pool"
		zf.Skip = "no boot pool"
		return []Step{zp, zf}
	}
	for _, p := range pools {
		args, err := zpool.UpgradePoolArgv(p.Name)
		if err != nil {
			zp.Notes = append(zp.Notes, err.Error())
			continue
		}
		zp.Commands = append(zp.Commands, Cmd{Args: args, When: "the new system offers features " + p.Name + " lacks, all of them readable by the FreeBSD loader"})
		switch {
		case p.LegacyVersion != 0:
			zp.Notes = append(zp.Notes, fmt.Sprintf("%s is at legacy version %d: zpool upgrade moves it to feature flags", p.Name, p.LegacyVersion))
		case len(p.Upgradable) > 0:
			zp.Notes = append(zp.Notes, fmt.Sprintf("%s lacks %s today; the list is read again once the new system runs", p.Name, strings.Join(p.Upgradable, ", ")))
		}
		if c := strings.Join(p.Compatibility, ","); c != "" && c != "off" {
			zp.Notes = append(zp.Notes, p.Name+": compatibility="+c+" limits what zpool upgrade enables")
		}
		if fargs, err := zpool.UpgradeFilesystemsArgv(p.Name); err == nil {
			zf.Commands = append(zf.Commands, Cmd{Args: fargs, When: "zfs upgrade lists file systems of " + p.Name + " below the current version"})
		}
		if len(p.OldFilesystems) > 0 {
			zf.Notes = append(zf.Notes, p.Name+": "+strings.Join(p.OldFilesystems, ", ")+" below the current version today")
		}
	}
	zp.Notes = append(zp.Notes,
		"runs only once the new kernel runs and the new boot code was read back from every disk",
		"features the FreeBSD loader cannot read once active are never enabled: when the new system offers any, the others are enabled one by one (zpool set feature@NAME=enabled POOL)")
	zp.Commands = append(zp.Commands, b.bootcodeStep("", "").Commands...)
	return []Step{zp, zf}
}
