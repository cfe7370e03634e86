// SPDX-License-Identifier: BSD-2-Clause

package facts

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/gpart"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/pkgng"
	"github.com/zupgrade/zupgrade/zpool"
)

// Boot files on the host that inspection hashes.
const (
	LoaderEFI  = "/boot/loader.efi"
	GPTZFSBoot = "/boot/gptzfsboot"
	PMBR       = "/boot/pmbr"
)

// FstabPath is the file rc mounts the local file systems from.
const FstabPath = "/etc/fstab"

// gatherFstab keeps the msdosfs lines of /etc/fstab, each tied to the
// partition its device names.
func gatherFstab(f *Facts, layout *gpart.Layout, text string) {
	for _, l := range gpart.ParseFstab(text) {
		if l.FSType != "msdosfs" {
			continue
		}
		e := FstabESP{Line: l.Number, Text: l.Text, Device: l.Device, MountPoint: l.MountPoint, Failok: l.Has("failok"), Noauto: l.Has("noauto")}
		if m, err := layout.ResolveMember(strings.TrimPrefix(l.Device, "/dev/")); err == nil {
			e.Disk, e.Partition = m.DiskGeom, m.Partition.Name
		}
		f.FstabESPs = append(f.FstabESPs, e)
	}
}

// probe runs one read-only command and keeps its result.
type probe struct {
	ctx context.Context
	r   host.Runner
	err error
}

// run runs args; an error to run it at all (not an exit status) is kept and
// ends the gathering.
func (p *probe) run(args ...string) host.Result {
	if p.err != nil {
		return host.Result{ExitCode: -1}
	}
	res, err := p.r.Run(p.ctx, host.Command{Args: args})
	if err != nil {
		p.err = err
	}
	return res
}

// Gather runs the probe set of docs/commands.md through r and returns the
// host's facts. Output that cannot be parsed is an error naming the command
// and the line; a probe that is missing on old hosts (bectl, pkg,
// freebsd-version, efibootmgr) is recorded as such.
func Gather(ctx context.Context, r host.Runner) (*Facts, error) {
	p := &probe{ctx: ctx, r: r}
	f := &Facts{Version: Version, Pools: []Pool{}, Disks: []Disk{}}

	id := p.run("id", "-u")
	f.Root = id.OK() && strings.TrimSpace(string(id.Stdout)) == "0"

	un := p.run("uname", "-s", "-r", "-m", "-i")
	if p.err == nil {
		if !un.OK() {
			return nil, fmt.Errorf("uname -s -r -m -i: exit status %d", un.ExitCode)
		}
		fs := strings.Fields(string(un.Stdout))
		if len(fs) != 4 {
			return nil, &host.ParseError{Command: "uname -s -r -m -i", Line: 1, Text: strings.TrimSpace(string(un.Stdout)), Reason: "want four words: system, release, machine, kernel configuration"}
		}
		f.OS, f.Release.Running, f.Machine, f.KernelIdent = fs[0], fs[1], fs[2], fs[3]
	}

	if err := gatherVersions(p, f); err != nil {
		return nil, err
	}
	gatherSysctl(p, f)

	kenv := p.run("kenv", "-q", "vfs.root.mountfrom")
	f.RootMount = strings.TrimSpace(string(kenv.Stdout))
	if ds, ok := strings.CutPrefix(f.RootMount, "zfs:"); ok {
		f.RootDataset = ds
		f.BootPool, _, _ = strings.Cut(ds, "/")
	}
	mountRes := p.run("mount", "-p")
	mounts, err := gpart.ParseMountP(string(mountRes.Stdout))
	if err != nil && p.err == nil {
		return nil, err
	}
	if f.RootDataset == "" {
		// kenv may lack vfs.root.mountfrom (booted by an old loader); the
		// root mount says the same.
		for _, m := range mounts {
			if m.MountPoint == "/" && m.FSType == "zfs" {
				f.RootMount, f.RootDataset = "zfs:"+m.Device, m.Device
				f.BootPool, _, _ = strings.Cut(m.Device, "/")
			}
		}
	}

	layout, err := gatherPools(p, f)
	if err != nil {
		return nil, err
	}
	gatherBootEnvs(p, f)
	// pkg first: on a packaged base freebsd-update refuses every command,
	// updatesready included (check_pkgbase), so it is not probed there.
	if err := gatherPkg(p, f); err != nil {
		return nil, err
	}
	if f.Pkg.Pkgbase {
		f.Warnings = append(f.Warnings, "the base system is packaged (pkgbase): freebsd-update refuses such hosts, so its state was not probed")
	} else if err := gatherUpdate(p, f); err != nil {
		return nil, err
	}
	gatherEFI(p, f)
	fstab := p.run("cat", FstabPath)
	if p.err != nil {
		return nil, p.err
	}
	if fstab.OK() {
		gatherFstab(f, layout, string(fstab.Stdout))
	}
	if err := gatherDisks(p, f, layout, mounts); err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	if err := f.checkNames(); err != nil {
		return nil, err
	}
	return f, nil
}

func gatherVersions(p *probe, f *Facts) error {
	res := p.run("freebsd-version", "-kru")
	switch {
	case p.err != nil:
		return nil
	case res.ExitCode == host.ExitNotFound:
		// Before 10.0 there is no freebsd-version: the running kernel is all
		// there is to know, and it is what freebsd-update upgrades from.
		f.Release.Kernel, f.Release.Userland = f.Release.Running, f.Release.Running
		f.Warnings = append(f.Warnings, "freebsd-version is not installed (FreeBSD before 10.0): installed kernel and userland are assumed to be the running release")
		return nil
	case !res.OK():
		return fmt.Errorf("freebsd-version -kru: exit status %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	v, err := freebsdupdate.ParseVersionsKRU(res.Stdout)
	if err != nil {
		return err
	}
	f.Release.Kernel, f.Release.Running, f.Release.Userland = v.Kernel.String(), v.Running.String(), v.Userland.String()
	return nil
}

// gatherSysctl reads the "name: value" lines of the sysctl probe. An old
// sysctl stops at the first unknown oid, so every value is optional.
func gatherSysctl(p *probe, f *Facts) {
	res := p.run("sysctl", "machdep.bootmethod", "security.jail.jailed", "kern.osreldate")
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(name) {
		case "machdep.bootmethod":
			f.BootMethod = value
		case "security.jail.jailed":
			f.Jailed = value == "1"
		case "kern.osreldate":
			f.OSRelDate, _ = strconv.Atoi(value)
		}
	}
	if f.BootMethod == "" && f.Machine == "arm64" {
		// arm64 FreeBSD boots only through UEFI and has no such sysctl.
		f.BootMethod = "UEFI"
	}
}

// gatherPools reads the pools and the disk layout, and ties every member of
// every pool to its partition and disk.
func gatherPools(p *probe, f *Facts) (*gpart.Layout, error) {
	st := p.run("zpool", "status")
	props := p.run("zpool", "get", "-H", "-p", "all")
	upg := p.run("zpool", "upgrade")
	zfsUpg := p.run("zfs", "upgrade")
	list := p.run("gpart", "list")
	labels := p.run("glabel", "status")
	if p.err != nil {
		return nil, p.err
	}
	if !st.OK() {
		return nil, fmt.Errorf("zpool status: exit status %d: %s", st.ExitCode, strings.TrimSpace(string(st.Stderr)))
	}
	pools, err := zpool.ParseStatus(string(st.Stdout))
	if err != nil {
		return nil, err
	}
	byName := map[string]zpool.Properties{}
	if props.OK() {
		ps, err := zpool.ParseProperties(string(props.Stdout))
		if err != nil {
			return nil, err
		}
		for _, pp := range ps {
			byName[pp.Pool] = pp
		}
	} else {
		f.Warnings = append(f.Warnings, "zpool get -H -p all failed (an old zpool): pool properties, features and free space are unknown")
	}
	var ul zpool.UpgradeList
	if upg.OK() {
		if ul, err = zpool.ParseUpgradeList(string(upg.Stdout)); err != nil {
			return nil, err
		}
	}
	var fl zpool.FilesystemUpgradeList
	if zfsUpg.OK() {
		if fl, err = zpool.ParseFilesystemUpgradeList(string(zfsUpg.Stdout)); err != nil {
			return nil, err
		}
	}
	layout := &gpart.Layout{}
	if list.OK() {
		if layout.Geoms, err = gpart.ParseList(string(list.Stdout)); err != nil {
			return nil, err
		}
	}
	if labels.OK() {
		if layout.Labels, err = gpart.ParseGlabelStatus(string(labels.Stdout)); err != nil {
			return nil, err
		}
	}
	for i := range pools {
		zp := &pools[i]
		pool := Pool{Name: zp.Name, State: zp.State, Health: zp.State, Scan: Scan{Kind: "none"}, Compatibility: []string{"off"}, Members: []Member{}}
		for _, s := range zp.Scans {
			pool.Scan = Scan{Kind: string(s.Kind), InProgress: s.Running(), Text: s.Line}
			if s.Running() {
				break
			}
		}
		for _, pr := range zp.Problems() {
			pool.Problems = append(pool.Problems, pr.Message)
		}
		if pp, ok := byName[zp.Name]; ok {
			pool.Health = pp.Health()
			if bfs, ok := pp.Bootfs(); ok {
				pool.BootFS = bfs
			}
			pool.Compatibility = pp.Compatibility()
			pool.Size, _ = pp.Size()
			pool.Free, _ = pp.Free()
			if v, err := pp.Version(); err == nil {
				pool.LegacyVersion = v
			}
			pool.Features = map[string]string{}
			for name, st := range pp.Features() {
				pool.Features[name] = string(st)
			}
		}
		if v, ok := ul.Legacy[zp.Name]; ok {
			pool.LegacyVersion = v
		}
		pool.Upgradable = ul.WouldEnable(zp.Name)
		if pp, ok := byName[zp.Name]; ok {
			lc := zpool.CheckLoader(&pp, pool.Upgradable)
			pool.LoaderUnreadable = append(lc.EnableUnreadable, lc.EnableUnknown...)
			pool.ActiveUnreadable = lc.ActiveUnreadable
		}
		for _, fs := range fl.OutOfDate {
			if fs.Name == zp.Name || strings.HasPrefix(fs.Name, zp.Name+"/") {
				pool.OldFilesystems = append(pool.OldFilesystems, fs.Name)
			}
		}
		replacing := map[*zpool.Vdev]bool{}
		var walk func(v *zpool.Vdev, in bool)
		walk = func(v *zpool.Vdev, in bool) {
			replacing[v] = in
			for _, c := range v.Children {
				walk(c, in || v.Kind == zpool.KindReplacing)
			}
		}
		if zp.Root != nil {
			walk(zp.Root, false)
		}
		for _, leaf := range zp.DataLeaves() {
			m := Member{Name: leaf.Name, State: leaf.State, Was: leaf.Was, Replacing: replacing[leaf], Resilvering: strings.Contains(leaf.Note, "resilvering")}
			name := leaf.Name
			if leaf.Was != "" {
				name = leaf.Name + " was " + leaf.Was
			}
			if rm, err := layout.ResolveMember(name); err != nil {
				m.Error = err.Error()
			} else {
				m.Partition, m.Disk = rm.Partition.Name, rm.DiskGeom
			}
			pool.Members = append(pool.Members, m)
		}
		f.Pools = append(f.Pools, pool)
	}
	return layout, nil
}

func gatherBootEnvs(p *probe, f *Facts) {
	check := p.run(bootenv.CheckArgs()...)
	list := p.run(bootenv.ListArgs()...)
	if p.err != nil {
		return
	}
	support, err := bootenv.ParseCheck(check.ExitCode)
	if err != nil {
		f.Warnings = append(f.Warnings, err.Error())
		return
	}
	if support == bootenv.NoBectl {
		return
	}
	f.BootEnvs.Tool = "bectl"
	f.BootEnvs.Supported = support == bootenv.Supported
	if !list.OK() {
		return
	}
	bes, err := bootenv.ParseList(bootenv.ListCommand, list.Stdout)
	if err != nil {
		f.Warnings = append(f.Warnings, err.Error())
		return
	}
	for _, b := range bes {
		be := BootEnv{Name: b.Name, Active: b.ActiveNow, OnReboot: b.ActiveOnReboot, Temporary: b.Temporary}
		if !b.Created.IsZero() {
			be.Created = b.Created.Format("2006-01-02 15:04")
		}
		f.BootEnvs.List = append(f.BootEnvs.List, be)
	}
}

func gatherUpdate(p *probe, f *Facts) error {
	ready := p.run(freebsdupdate.UpdatesReadyArgs...)
	listing := p.run(freebsdupdate.ListingCommand(freebsdupdate.WorkDir, "/")...)
	tag := p.run("cat", path.Join(freebsdupdate.WorkDir, "tag"))
	quirk := p.run(freebsdupdate.QuirkProbeCommand().Args...)
	if p.err != nil {
		return nil
	}
	f.Update.MetadataPattern = "unknown"
	if ready.ExitCode == host.ExitNotFound {
		f.Warnings = append(f.Warnings, "freebsd-update is not installed")
		return nil
	}
	pending, err := freebsdupdate.ParseUpdatesReady(ready.Stdout, ready.ExitCode)
	switch {
	case errors.Is(err, freebsdupdate.ErrNoUpdatesReadyCommand):
		// Before updatesready existed, the pending link is the answer.
		pending = listing.OK()
	case err != nil:
		return err
	}
	f.Update.Pending = pending
	var dir freebsdupdate.InstallDir
	if listing.OK() {
		if dir, err = freebsdupdate.ParseInstallDir(host.QuoteArgs(freebsdupdate.ListingCommand(freebsdupdate.WorkDir, "/")), listing.Stdout); err != nil {
			return err
		}
		for _, m := range []struct {
			on   bool
			name string
		}{{dir.KernelFirst, "kernelfirst"}, {dir.KernelDone, "kerneldone"}, {dir.WorldDone, "worlddone"}} {
			if m.on {
				f.Update.Markers = append(f.Update.Markers, m.name)
			}
		}
	}
	if pending {
		phase, err := freebsdupdate.PendingPhase(pending, dir)
		if err != nil {
			return err
		}
		f.Update.Phase = phaseName(phase)
		if tag.OK() {
			if t, err := freebsdupdate.ParseTag(tag.Stdout); err == nil {
				f.Update.Fetched = t.Release.String()
			} else {
				f.Warnings = append(f.Warnings, err.Error())
			}
		}
	}
	lines, err := freebsdupdate.ParseQuirkProbe(quirk.Stdout, quirk.ExitCode)
	if err != nil {
		f.Warnings = append(f.Warnings, "freebsd-update script: "+err.Error())
		return nil
	}
	cur, _ := freebsdupdate.ParseRelease(f.Release.Running)
	for _, q := range freebsdupdate.DetectQuirks(lines, freebsdupdate.QuirkContext{Current: cur}) {
		switch q.ID {
		case freebsdupdate.QuirkMetadataPath:
			switch q.State {
			case freebsdupdate.QuirkPresent:
				f.Update.MetadataPattern = "old"
			case freebsdupdate.QuirkAbsent:
				f.Update.MetadataPattern = "current"
			}
		}
	}
	f.Update.NoCronOption = freebsdupdate.ScriptOf(lines).NoCronOption
	for _, l := range lines {
		if strings.Contains(l.Text, "libsys") {
			f.Update.LibsysOrdering = true
		}
	}
	return nil
}

// phaseName names what the next install of a pending phase does.
func phaseName(p freebsdupdate.Phase) string {
	switch p {
	case freebsdupdate.PhaseUpdateFetched:
		return "patches"
	case freebsdupdate.PhaseUpgradeFetched:
		return "kernel"
	case freebsdupdate.PhaseKernelInstalled:
		return "world"
	case freebsdupdate.PhaseWorldInstalled:
		return "old-libraries"
	}
	return ""
}

func gatherPkg(p *probe, f *Facts) error {
	n := p.run("pkg", "-N")
	if p.err != nil || !n.OK() {
		return nil
	}
	f.Pkg.Activated = true
	abi := p.run("pkg", "config", "ABI")
	if abi.OK() {
		f.Pkg.ABI = strings.TrimSpace(string(abi.Stdout))
	}
	which := p.run("pkg", "which", "-q", "/usr/bin/uname")
	f.Pkg.Pkgbase = which.OK() && strings.TrimSpace(string(which.Stdout)) != ""
	repos := p.run(pkgng.RepoQueryArgs()...)
	if !repos.OK() {
		return nil
	}
	ports, err := pkgng.FromPorts(repos.Stdout)
	if err != nil {
		return err
	}
	f.Pkg.FromPorts = ports
	for _, l := range strings.Split(string(repos.Stdout), "\n") {
		if name, _, _ := strings.Cut(l, " "); name == "portmaster" {
			f.Pkg.Portmaster = true
		}
	}
	return nil
}

func gatherEFI(p *probe, f *Facts) {
	res := p.run("efibootmgr", "-v")
	if p.err != nil || !res.OK() {
		return
	}
	eb, err := gpart.ParseEfibootmgr(string(res.Stdout))
	if err != nil {
		f.Warnings = append(f.Warnings, err.Error())
		return
	}
	f.EFI = EFIFrom(eb)
}

// EFIFrom turns efibootmgr's parsed output into the facts' form.
func EFIFrom(eb *gpart.EFIBoot) *EFI {
	e := &EFI{BootCurrent: eb.BootCurrent, BootOrder: eb.BootOrder}
	add := func(en gpart.EFIBootEntry, unref bool) {
		e.Entries = append(e.Entries, EFIEntry{Number: en.Num, Label: en.Label, Active: en.Active, Current: en.Current, Device: en.Device, Path: en.Path, PartitionGUID: en.PartitionGUID(), FreeBSDLoader: en.PointsAt(gpart.ESPLoaderPath), Unreferenced: unref})
	}
	for _, en := range eb.Entries {
		add(en, false)
	}
	for _, en := range eb.Unreferenced {
		add(en, true)
	}
	return e
}

// gatherDisks describes every disk that holds a member of the boot pool:
// its boot partitions and ESPs, whether each ESP holds a FAT file system
// (one `file -s` for all of them) and, for ESPs mounted already, whether
// their loaders equal /boot/loader.efi (one `sha256 -r` for all files).
func gatherDisks(p *probe, f *Facts, layout *gpart.Layout, mounts gpart.Mounts) error {
	var pool *Pool
	for i := range f.Pools {
		if f.Pools[i].Name == f.BootPool {
			pool = &f.Pools[i]
		}
	}
	if pool == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, m := range pool.Members {
		if m.Disk == "" || seen[m.Disk] {
			continue
		}
		seen[m.Disk] = true
		bt, err := layout.BootTargets(m.Disk)
		if err != nil {
			return err
		}
		d := Disk{Name: bt.Geom, Scheme: bt.Scheme, BootPartitions: []Partition{}, ESPs: []ESP{}}
		for _, bp := range bt.BootPartitions {
			d.BootPartitions = append(d.BootPartitions, Partition{Name: bp.Name, Index: bp.Index, Size: bp.Size(), Label: bp.Label})
		}
		for _, ep := range bt.ESPs {
			e := ESP{Partition: Partition{Name: ep.Name, Index: ep.Index, Size: ep.Size(), Label: ep.Label, RawUUID: ep.RawUUID}, Format: "unknown", Loader: "unknown", Fallback: "unknown"}
			if mt, ok := mounts.MSDOS().OfProvider(layout, ep.Name); ok {
				e.MountPoint = mt.MountPoint
			}
			d.ESPs = append(d.ESPs, e)
		}
		f.Disks = append(f.Disks, d)
	}
	// The other GPT disks with an ESP.
	for _, g := range layout.Geoms {
		if seen[g.Name] || g.Scheme != "GPT" {
			continue
		}
		bt, err := layout.BootTargets(g.Name)
		if err != nil || len(bt.ESPs) == 0 {
			continue
		}
		d := Disk{Name: bt.Geom, Scheme: bt.Scheme, BootPartitions: []Partition{}, ESPs: []ESP{}}
		for _, ep := range bt.ESPs {
			e := ESP{Partition: Partition{Name: ep.Name, Index: ep.Index, Size: ep.Size(), Label: ep.Label, RawUUID: ep.RawUUID}, Format: "unknown", Loader: "unknown", Fallback: "unknown"}
			if mt, ok := mounts.MSDOS().OfProvider(layout, ep.Name); ok {
				e.MountPoint = mt.MountPoint
			}
			d.ESPs = append(d.ESPs, e)
		}
		f.OtherDisks = append(f.OtherDisks, d)
	}

	// Phase 2: one file -s for every ESP, one sha256 for every boot file.
	all := func(yield func(*ESP) bool) {
		for _, ds := range [][]Disk{f.Disks, f.OtherDisks} {
			for i := range ds {
				for j := range ds[i].ESPs {
					if !yield(&ds[i].ESPs[j]) {
						return
					}
				}
			}
		}
	}
	var devs []string
	for e := range all {
		devs = append(devs, "/dev/"+e.Name)
	}
	if len(devs) > 0 {
		res := p.run(append([]string{"file", "-s"}, devs...)...)
		if p.err != nil {
			return p.err
		}
		results, err := gpart.ParseFileS(string(res.Stdout))
		if err != nil {
			return err
		}
		for _, r := range results {
			for e := range all {
				if "/dev/"+e.Name != r.Path {
					continue
				}
				e.FormatText = r.Description
				switch r.Content {
				case gpart.ContentFAT:
					e.Format = "fat"
				case gpart.ContentNoFileSystem:
					e.Format = "empty"
				}
			}
		}
	}
	fallback := FallbackName(f.Machine)
	files := []string{LoaderEFI, GPTZFSBoot, PMBR}
	for _, d := range f.Disks {
		for _, e := range d.ESPs {
			if e.MountPoint != "" {
				files = append(files, path.Join(e.MountPoint, "efi/freebsd/loader.efi"))
				if fallback != "" {
					files = append(files, path.Join(e.MountPoint, "efi/boot", fallback))
				}
			}
		}
	}
	res := p.run(append([]string{"sha256", "-r"}, files...)...)
	if p.err != nil {
		return p.err
	}
	sums, err := gpart.ParseSHA256(string(res.Stdout))
	if err != nil {
		return err
	}
	f.Loaders = BootFiles{LoaderEFI: sums[LoaderEFI], GPTZFSBoot: sums[GPTZFSBoot], PMBR: sums[PMBR]}
	compare := func(file string) string {
		switch sum, ok := sums[file]; {
		case !ok:
			return "missing"
		case f.Loaders.LoaderEFI == "":
			return "unknown"
		case sum == f.Loaders.LoaderEFI:
			return "current"
		}
		return "differs"
	}
	for i := range f.Disks {
		for j := range f.Disks[i].ESPs {
			e := &f.Disks[i].ESPs[j]
			if e.MountPoint == "" {
				continue
			}
			e.Loader = compare(path.Join(e.MountPoint, "efi/freebsd/loader.efi"))
			if fallback != "" {
				e.Fallback = compare(path.Join(e.MountPoint, "efi/boot", fallback))
			}
		}
	}
	return nil
}

// FallbackName is the file name of the firmware's fallback loader under
// efi/boot for an architecture (uname -m), lower-cased (FreeBSD's msdosfs
// matches names without regard to case); "" when the architecture has none.
func FallbackName(machine string) string {
	name, err := gpart.FallbackLoaderName(machine)
	if err != nil {
		return ""
	}
	return strings.ToLower(name)
}
