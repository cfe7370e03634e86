// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// BootOptions change how a machine is booted.
type BootOptions struct {
	// FirstDisk is tried first, as if picked in the firmware's boot menu:
	// the disk (BIOS) or the boot entries on that disk's ESP (UEFI).
	FirstDisk string
	// NoHooks boots without running the local rc.d scripts
	// (/usr/local/etc/rc.d); what the base system's rc does (fstab,
	// /tmp) still happens.
	NoHooks bool
	// Env is added to the environment of the rc.d scripts.
	Env []string
	// HookTimeout bounds each rc.d script (default five minutes).
	HookTimeout time.Duration

	// Staged upgrades (staged.go): the kernel of this boot environment
	// (a name below POOL/ROOT, or the dataset) panics while it boots.
	PanicIn string
	// panics counts the panics of this boot so far.
	panics int

	// Trial deadline (watchdog.go): the boot of boot environment HangIn
	// hangs in rc before the local rc.d script HangBefore runs (a
	// script before it blocks for ever); hangs counts those hangs.
	HangIn, HangBefore string
	hangs              int
}

// BootReport says whether the machine came up, through which path, and
// what its boot-time scripts did.
type BootReport struct {
	// Booted is true when the system reached multi-user mode.
	Booted bool `json:"booted"`
	// State is multi-user, single-user (rc stopped early), or halted
	// (the firmware, boot code or kernel could not go on).
	State string `json:"state"`
	// Reason says why the machine did not boot (empty when it did).
	Reason string `json:"reason,omitempty"`
	// Firmware is BIOS or UEFI; Path describes what it started
	// (disk ada1, or entry Boot0001 on ada1p1:/efi/boot/bootx64.efi).
	Firmware string `json:"firmware"`
	Path     string `json:"path,omitempty"`
	Disk     string `json:"disk,omitempty"`
	// Loader is the boot program that read the pool, and its release.
	Loader string `json:"loader,omitempty"`
	BE     string `json:"be,omitempty"`
	Kernel string `json:"kernel,omitempty"`
	// Console holds the messages of the boot, in order.
	Console []string `json:"console"`
	// Hooks are the rc.d scripts run at boot.
	Hooks []HookResult `json:"hooks,omitempty"`
	// BrokenPackages lists packages whose programs cannot run (a shared
	// object they need is missing).
	BrokenPackages []string `json:"broken_packages,omitempty"`
}

// HookResult is the run of one rc.d script at boot.
type HookResult struct {
	Script string `json:"script"`
	Exit   int    `json:"exit"`
	Output string `json:"output"`
}

// Boot starts the machine: the firmware tries its disks or boot entries,
// the boot code and loader must read the pool, the kernel must import it
// and mount the boot environment, rc mounts /etc/fstab and clears /tmp
// as configured, then the enabled local rc.d scripts run. A machine that
// was running is reset first (its volatile state is lost as in a power
// cut). The processes of the system that ran before are killed; those
// the rc.d scripts detach with daemon(8) run on when Boot returns (Wait
// waits for them).
func (m *Machine) Boot(opts BootOptions) (*BootReport, error) {
	var rep *BootReport
	err := m.Update(func(model *Model) error {
		if dir := m.realZFS(); dir != "" {
			// The boot code reads the real pool: its features as they are.
			if err := m.syncRealPools(model, dir); err != nil {
				return err
			}
			// The reset ends the running system's real root
			// (realroot.go); the boot environments are what their
			// real datasets hold.
			if err := m.unmountRealRoot(model); err != nil {
				return err
			}
			if err := m.readRealBEs(model, dir); err != nil {
				return err
			}
		}
		if dir := m.realDisks(); dir != "" {
			// The firmware finds the boot code that is on the real disks.
			if err := m.syncRealDisks(model, dir); err != nil {
				return err
			}
			// And the ESPs' files that are on the real disks.
			if err := m.syncRealESPs(model, dir); err != nil {
				return err
			}
		}
		var err error
		rep, err = m.boot(model, opts)
		return err
	})
	if err != nil || !rep.Booted || opts.NoHooks {
		return rep, err
	}
	if hung := m.runHooks(rep, opts); hung != "" {
		return m.watchdogReset(rep, opts, hung)
	}
	rep.BrokenPackages = m.brokenPackages()
	err = m.Update(func(model *Model) error {
		model.LastBoot = rep
		return nil
	})
	return rep, err
}

// fail ends a boot attempt in state, saying why.
func (rep *BootReport) fail(state, format string, a ...any) *BootReport {
	rep.State = state
	rep.Reason = fmt.Sprintf(format, a...)
	rep.Console = append(rep.Console, rep.Reason)
	return rep
}

// say adds a console line.
func (rep *BootReport) say(format string, a ...any) {
	rep.Console = append(rep.Console, fmt.Sprintf(format, a...))
}

// LastBootOK reports whether the last boot reached multi-user mode.
func (model *Model) LastBootOK() bool { return model.LastBoot != nil && model.LastBoot.Booted }

// boot runs the boot decision on the model (the caller holds the lock).
func (m *Machine) boot(model *Model, opts BootOptions) (rep *BootReport, err error) {
	rep = &BootReport{Firmware: model.Firmware.Mode}
	defer func() { model.LastBoot = rep }()
	switch model.Power {
	case PowerOn:
		rep.say("reset: the running system was not shut down")
		model.cutPower()
	case PowerGoingDown:
		rep.say("system shut down cleanly")
	}
	model.Power = PowerOff
	model.endRunning()
	if err := m.unmountAll(model); err != nil {
		return nil, err
	}
	model.Clock = model.Clock.Add(30 * time.Second)

	pool := model.bootPool()
	if pool == nil {
		return rep.fail("halted", "no ZFS pool to boot from"), nil
	}
	var loader Blob
	var disk string
	var ok bool
	if model.Firmware.Mode == "BIOS" {
		loader, disk, ok = m.firmwareBIOS(model, pool, opts, rep)
	} else {
		loader, disk, ok = m.firmwareUEFI(model, pool, opts, rep)
	}
	if !ok {
		return rep, nil
	}
	rep.Disk = disk
	rep.Loader = fmt.Sprintf("%s %s", loader.Kind, loader.Release)

	// The loader picks the boot environment: a one-time activation
	// (bectl activate -t) is consumed, else the pool's bootfs. The boot
	// code that reads the pool takes freebsd:bootonce out of the label's
	// bootenv area and writes the rest back before it loads anything
	// from that boot environment (takeBootonce: from the real labels on
	// real disks), so whatever happens next, the following boot is the
	// bootfs's.
	be := pool.Bootfs
	once, err := m.takeBootonce(model, pool, rep)
	if err != nil {
		return nil, err
	}
	if once != "" {
		be = once
		rep.say("zfs bootonce: zfs:%s:", be)
	}
	rep.BE = be
	if _, d := model.dataset(be); d == nil {
		return rep.fail("halted", "loader: cannot find boot environment %s", be), nil
	}
	if loader.Kind == BlobGPTZFSBoot || loader.Kind == BlobBoot1EFI {
		next := BlobLoader
		if loader.Kind == BlobBoot1EFI {
			next = BlobLoaderEFI
		}
		data, err := m.beFile(model, be, "/boot/"+next)
		if err != nil {
			return rep.fail("halted", "%s: can't load /boot/%s from %s", loader.Kind, next, be), nil
		}
		l2, ok := parseBlob(data)
		if !ok {
			return rep.fail("halted", "%s: /boot/%s on %s is not a boot loader", loader.Kind, next, be), nil
		}
		if msg := poolReadable(l2, pool); msg != "" {
			return rep.fail("halted", "%s %s: %s", l2.Kind, l2.Release, msg), nil
		}
		loader = l2
		rep.Loader += fmt.Sprintf(", then %s %s", loader.Kind, loader.Release)
	}
	if data, err := m.beFile(model, be, "/boot/lua/loader.lua"); err == nil {
		need := luaNeeds(data)
		if loader.Release.Major < need {
			return rep.fail("halted", "LUA ERROR: /boot/lua/loader.lua needs a loader of FreeBSD %d or later; %s %s is too old (drops to the loader prompt)", need, loader.Kind, loader.Release), nil
		}
	}

	// The kernel imports the pool and mounts the boot environment.
	kdata, err := m.beFile(model, be, "/boot/kernel/kernel")
	if err != nil {
		return rep.fail("halted", "loader: can't load 'kernel' from %s", be), nil
	}
	kb, ok := parseBlob(kdata)
	if !ok {
		return rep.fail("halted", "loader: %s/boot/kernel/kernel is not a kernel", be), nil
	}
	kernel := kb.Release
	rep.Kernel = kernel.String()
	rep.say("loader: booting kernel %s from %s", kernel, be)
	if panicsIn(opts, pool, be) {
		return m.panicReboot(model, opts, rep)
	}
	if msg := kernelCanImport(kernel, pool); msg != "" {
		rep.say("%s", msg)
		return rep.fail("halted", "Mounting from zfs:%s failed with error 45; mountroot> prompt", be), nil
	}
	if model.poolState(pool) == "UNAVAIL" {
		return rep.fail("halted", "Mounting from zfs:%s failed with error 6; mountroot> prompt", be), nil
	}
	_, ds := model.dataset(be)
	if ds.Version > kernel.ZPLVersion() {
		return rep.fail("halted", "Mounting from zfs:%s failed with error 45 (file system version %d is newer than the kernel's %d); mountroot> prompt", be, ds.Version, kernel.ZPLVersion()), nil
	}

	// The root file system is the boot environment's: its real dataset
	// with a real root (realroot.go).
	switchRoot := func() error { return m.switchRoot(model, model.RootFiles, be) }
	if m.realRoot() {
		switchRoot = func() error { return m.switchRealRoot(model, be) }
	}
	if err := switchRoot(); err != nil {
		return nil, fmt.Errorf("switch to boot environment %s: %w", be, err)
	}
	model.RootFiles = be
	if err := m.makeMountpoints(model); err != nil {
		return nil, err
	}
	model.Power = PowerOn
	model.Running = &Running{Kernel: kernel.String(), Ident: kb.Ident, BE: be, BootMethod: model.Firmware.Mode, BootDisk: disk, Loader: rep.Loader, Since: model.Clock}

	// init starts rc with /bin/sh: a userland whose shell cannot run
	// (a shared object missing) is inoperative.
	if data, err := os.ReadFile(m.HostPath("/bin/sh")); err != nil {
		return rep.fail("halted", "init: /bin/sh not found; the system is inoperative"), nil
	} else if miss, by := (&Invocation{m: m}).missingObject(data, "sh", 0); miss != "" {
		return rep.fail("halted", "init: ld-elf.so.1: Shared object \"%s\" not found, required by \"%s\"; the system is inoperative", filepath.Base(miss), by), nil
	}

	// rc: mount the local file systems of /etc/fstab.
	if msg := m.mountFstab(model); msg != "" {
		rep.say("%s", msg)
		return rep.fail("single-user", "Mounting /etc/fstab filesystems failed, startup aborted (single-user mode)"), nil
	}
	if err := m.clearTmp(rep); err != nil {
		return nil, fmt.Errorf("clear /tmp: %w", err)
	}
	rep.Booted = true
	rep.State = "multi-user"
	rep.say("multi-user: %s running %s", model.Hostname, kernel)
	return rep, nil
}

// firmwareBIOS tries the disks in BIOS order: the PMBR in sector 0, the
// first freebsd-boot partition, then gptzfsboot reading the pool.
func (m *Machine) firmwareBIOS(model *Model, pool *Pool, opts BootOptions, rep *BootReport) (Blob, string, bool) {
	for _, name := range diskOrder(model.Firmware.DiskOrder, opts.FirstDisk) {
		d := model.disk(name)
		if d == nil || d.Missing {
			continue
		}
		pmbr, ok := parseBlob(d.BootArea)
		if !ok || pmbr.Kind != BlobPMBR {
			rep.say("BIOS: %s has no boot code in sector 0", name)
			continue
		}
		rep.Path = "disk " + name
		var boot *Partition
		for _, p := range d.Partitions {
			if p.Type == "freebsd-boot" {
				boot = p
				break
			}
		}
		if boot == nil {
			rep.fail("halted", "pmbr on %s: Missing boot loader", name)
			return Blob{}, "", false
		}
		code, ok := parseBlob(boot.Data)
		if !ok || code.Kind != BlobGPTZFSBoot {
			rep.fail("halted", "pmbr on %s: %sp%d holds no gptzfsboot; the machine hangs", name, name, boot.Index)
			return Blob{}, "", false
		}
		rep.say("BIOS: booting %s: gptzfsboot %s from %sp%d", name, code.Release, name, boot.Index)
		if msg := poolReadable(code, pool); msg != "" {
			rep.say("%s", msg)
			rep.fail("halted", "gptzfsboot %s on %s: %s; No ZFS pools located, can't boot", code.Release, name, msg)
			return Blob{}, "", false
		}
		return code, name, true
	}
	rep.fail("halted", "BIOS: no bootable device found")
	return Blob{}, "", false
}

// diskOrder puts first in front of order.
func diskOrder(order []string, first string) []string {
	if first == "" {
		return order
	}
	out := []string{first}
	for _, d := range order {
		if d != first {
			out = append(out, d)
		}
	}
	return out
}

// firmwareUEFI tries BootNext, then the entries of BootOrder: each names
// a file on an ESP that must exist and be an EFI program.
func (m *Machine) firmwareUEFI(model *Model, pool *Pool, opts BootOptions, rep *BootReport) (Blob, string, bool) {
	fw := &model.Firmware
	order := append([]int(nil), fw.BootOrder...)
	if fw.BootNext != nil {
		order = append([]int{*fw.BootNext}, order...)
		fw.BootNext = nil
	}
	if opts.FirstDisk != "" {
		var on, off []int
		for _, n := range order {
			e := fw.efiEntry(n)
			if e == nil {
				continue
			}
			if d, _ := model.partitionByUUID(e.PartUUID); d != nil && d.Name == opts.FirstDisk {
				on = append(on, n)
			} else {
				off = append(off, n)
			}
		}
		order = append(on, off...)
	}
	var last string
	for _, n := range order {
		e := fw.efiEntry(n)
		if e == nil || !e.Active {
			continue
		}
		d, p := model.partitionByUUID(e.PartUUID)
		if d == nil || d.Missing {
			rep.say("UEFI: Boot%04X %s: device not present", n, e.Label)
			continue
		}
		if p.FAT == nil {
			rep.say("UEFI: Boot%04X %s: %s holds no FAT file system", n, e.Label, partName(d, p))
			continue
		}
		path := strings.ReplaceAll(e.Path, `\`, "/")
		f := p.FAT.lookup(path)
		if f == nil || f.Dir {
			rep.say("UEFI: Boot%04X %s: %s:%s not found", n, e.Label, partName(d, p), path)
			continue
		}
		if !validPE(f.Data) {
			rep.say("UEFI: Boot%04X %s: %s:%s is not an EFI program (load error)", n, e.Label, partName(d, p), path)
			continue
		}
		prog, ok := parseBlob(f.Data)
		if !ok || (prog.Kind != BlobLoaderEFI && prog.Kind != BlobBoot1EFI) {
			rep.say("UEFI: Boot%04X %s: %s:%s is not FreeBSD's loader", n, e.Label, partName(d, p), path)
			continue
		}
		fw.BootCurrent = n
		rep.Path = fmt.Sprintf("Boot%04X %s: %s:%s", n, e.Label, partName(d, p), path)
		rep.say("UEFI: starting %s (%s %s)", rep.Path, prog.Kind, prog.Release)
		why, stop := m.programFindsPool(model, prog, d, p, pool)
		if why == "" {
			return prog, d.Name, true
		}
		rep.say("%s %s: %s", prog.Kind, prog.Release, why)
		last = fmt.Sprintf("%s %s on %s: %s", prog.Kind, prog.Release, partName(d, p), why)
		if stop {
			rep.fail("halted", "%s; the loader stops at its prompt", last)
			return Blob{}, "", false
		}
	}
	if last != "" {
		rep.fail("halted", "UEFI: no boot entry could be started (last: %s)", last)
	} else {
		rep.fail("halted", "UEFI: no boot entry could be started")
	}
	return Blob{}, "", false
}

// programFindsPool decides whether a FreeBSD program started by the
// firmware from ESP p of disk d finds the pool and can read it. When it
// cannot, it says why; stop tells that it stays at its prompt instead of
// returning to the firmware, which then tries the next boot entry.
//
// boot1.efi (stand/efi/boot1/boot1.c efi_main, probe_handle) probes every
// partition of every disk and reads the pools it finds with its own ZFS
// code; when none is usable it prints "panic: No bootable partitions
// found!" and exits to the firmware (efi_panic) so that it tries the next
// option.
//
// loader.efi (stand/efi/loader/main.c find_currdev) uses rootdev from the
// ESP's efi/freebsd/loader.env first, "even if it's wrong"; else it tries
// the other partitions of its own disk only ("We do not search other
// disks"), and a pool it cannot read (zfsimpl.c: features_for_read,
// check_mos_features) is no pool to it. Started by the boot manager, it
// prints "Failed to find bootable partition" and returns EFI_NOT_FOUND.
func (m *Machine) programFindsPool(model *Model, prog Blob, d *Disk, p *Partition, pool *Pool) (why string, stop bool) {
	readable := poolReadable(prog, pool)
	if prog.Kind == BlobBoot1EFI {
		if !model.poolHasMemberOn(pool, "") {
			return "Failed to load '/boot/loader.efi'; panic: No bootable partitions found!", false
		}
		if readable != "" {
			return readable + "; Failed to load '/boot/loader.efi'; panic: No bootable partitions found!", false
		}
		return "", false
	}
	if env := p.FAT.lookup("efi/freebsd/loader.env"); env != nil && !env.Dir {
		if ds := loaderEnvRootdev(env.Data); ds != "" {
			if name, _, _ := strings.Cut(ds, "/"); name != pool.Name {
				return "rootdev zfs:" + ds + ": no such pool", true
			}
			if readable != "" {
				return readable + "; can't load 'kernel'", true
			}
			return "", false
		}
	}
	if !model.poolHasMemberOn(pool, d.Name) {
		return "Failed to find bootable partition (no pool on " + d.Name + ")", false
	}
	if readable != "" {
		return readable + "; internal error: failed to initialize ZFS library; Failed to find bootable partition", false
	}
	return "", false
}

// loaderEnvRootdev reads rootdev=zfs:DATASET[:] from a loader.env.
func loaderEnvRootdev(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "rootdev="); ok {
			v = strings.Trim(v, `"`)
			if ds, ok := strings.CutPrefix(v, "zfs:"); ok {
				return strings.TrimSuffix(ds, ":")
			}
		}
	}
	return ""
}

// poolHasMemberOn reports whether a present disk holds an ONLINE member of
// the pool: the disk named, or any disk when disk is "".
func (model *Model) poolHasMemberOn(p *Pool, disk string) bool {
	for _, v := range p.leaves() {
		if (disk == "" || v.Disk == disk) && model.leafState(v) == "ONLINE" {
			return true
		}
	}
	return false
}

// poolReadable says why a boot program cannot read the pool ("" when it can).
func poolReadable(b Blob, p *Pool) string {
	if p.Version < 5000 || b.SPA < 5000 {
		if b.SPA < p.Version {
			return fmt.Sprintf("ZFS: unsupported ZFS version %d (should be <= %d)", p.Version, b.SPA)
		}
		return ""
	}
	for _, name := range p.activeFeatures() {
		f, ok := LookupFeature(name)
		if !ok {
			// A feature the table lacks (a real pool's, in the guest)
			// is judged unreadable: whether it is read-only compatible
			// is not known here, and a boot passed unjudged would hide
			// the one failure that matters.
			return "ZFS: unsupported feature: " + name + " (unknown to simhost's feature table)"
		}
		if f.ReadOnlyCompat {
			continue
		}
		if !b.readsFeature(f.GUID) {
			return "ZFS: unsupported feature: " + f.GUID
		}
	}
	return ""
}

// kernelCanImport says why a kernel cannot import the pool ("" when it can).
func kernelCanImport(k Release, p *Pool) string {
	if p.Version > k.PoolVersion() {
		return fmt.Sprintf("ZFS: pool %s is version %d, this kernel supports up to %d", p.Name, p.Version, k.PoolVersion())
	}
	var unsupported []string
	for _, name := range p.activeFeatures() {
		f, ok := LookupFeature(name)
		if !ok {
			unsupported = append(unsupported, name+" (unknown to simhost's feature table)")
			continue
		}
		if f.ReadOnlyCompat {
			continue
		}
		if !f.supportedBy(k) {
			unsupported = append(unsupported, f.GUID)
		}
	}
	if len(unsupported) > 0 {
		return fmt.Sprintf("ZFS: pool %s uses features this kernel does not support: %s", p.Name, strings.Join(unsupported, " "))
	}
	return ""
}

// luaNeeds reads the loader major version loader.lua requires.
func luaNeeds(data []byte) int {
	var n int
	for _, line := range strings.Split(string(data), "\n") {
		if _, err := fmt.Sscanf(line, "-- requires loader of FreeBSD %d or later", &n); err == nil {
			return n
		}
	}
	return 0
}

// beFile reads a file of a boot environment, wherever its files are.
func (m *Machine) beFile(model *Model, be, path string) ([]byte, error) {
	if be == model.RootFiles {
		return os.ReadFile(m.HostPath(path))
	}
	return os.ReadFile(filepath.Join(m.storePath(be), filepath.FromSlash(path)))
}

// mountFstab mounts the msdosfs entries of /etc/fstab; it returns rc's
// complaint when one cannot be mounted (that stops the boot):
// libexec/rc/rc.d/mountcritlocal runs `mount -a`, and on a failure (after
// a retry) prints "Mounting /etc/fstab filesystems failed, startup
// aborted" and calls stop_boot. mount(8) skips noauto lines and does not
// count a failure of a failok line.
func (m *Machine) mountFstab(model *Model) string {
	data, err := os.ReadFile(m.HostPath("/etc/fstab"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || strings.HasPrefix(f[0], "#") || f[2] != "msdosfs" {
			continue
		}
		if strings.Contains(f[3], "noauto") {
			continue
		}
		failok := strings.Contains(f[3], "failok")
		d, p := model.device(strings.TrimPrefix(f[0], "/dev/"))
		switch {
		case p == nil:
			if !failok {
				return fmt.Sprintf("mount: %s: No such file or directory", f[0])
			}
		case p.FAT == nil:
			if !failok {
				return fmt.Sprintf("mount_msdosfs: %s: Invalid argument", f[0])
			}
		default:
			var real string
			if dir := m.realDisks(); dir != "" {
				var err error
				if real, err = m.mountRealESP(dir, d, p, false); err != nil && !failok {
					return fmt.Sprintf("mount_msdosfs: %s: Invalid argument", f[0])
				} else if err != nil {
					continue
				}
			}
			model.Running.Mounts = append(model.Running.Mounts, Mount{Device: f[0], Point: f[1], Disk: d.Name, Index: p.Index, Real: real})
		}
	}
	return ""
}

// clearTmp empties /tmp where FreeBSD's rc does at boot. A tmpfs line for
// /tmp in /etc/fstab (mounted by rc.d/mountcritlocal) or tmpmfs=YES
// (rc.d/tmp mounts a memory disk there; its default AUTO only when /tmp
// is not writable) gives a new, empty /tmp. clear_tmp_enable=YES makes
// rc.d/cleartmp remove what find -x /tmp/. reaches, which spares the
// files .sujournal, quota.user and quota.group and the directories .snap
// and lost+found (not their contents). Otherwise /tmp keeps its files:
// bsdinstall makes it a dataset of its own (zroot/tmp), which boot
// environment switches leave alone.
func (m *Machine) clearTmp(rep *BootReport) error {
	fresh := false
	if data, err := os.ReadFile(m.HostPath("/etc/fstab")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 && !strings.HasPrefix(f[0], "#") && f[1] == "/tmp" && f[2] == "tmpfs" && !strings.Contains(f[3], "noauto") {
				fresh = true
			}
		}
	}
	if v, _, _ := m.rcValue("tmp", "tmpmfs"); yes(v) {
		fresh = true
	}
	clear, _, _ := m.rcValue("cleartmp", "clear_tmp_enable")
	if !fresh && !yes(clear) {
		return nil
	}
	if !fresh {
		rep.say("Clearing /tmp.")
	}
	return clearDir(m.HostPath("/tmp"), !fresh)
}

// clearDir removes the entries of dir; with spare, those cleartmp spares
// stay (of its directories, only the contents go).
func clearDir(dir string, spare bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if spare {
			switch n := e.Name(); {
			case (n == ".sujournal" || n == "quota.user" || n == "quota.group") && !e.IsDir():
				continue
			case (n == ".snap" || n == "lost+found") && e.IsDir():
				if err := clearDir(p, false); err != nil {
					return err
				}
				continue
			}
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// runHooks runs the enabled local rc.d scripts with "faststart", as rc
// does at boot (libexec/rc/rc: run_rc_script FILE faststart on autoboot),
// in rcorder(8)'s order without the nostart scripts, nor the nojail ones in
// a jail, each as a process with rc's environment. A script whose rcvar is
// off is not run: under faststart run_rc_command returns 0 at once and
// says nothing (libexec/rc/rc.subr). Their output goes to a file, as rc's
// goes to the console: a program a script detached with daemon(8) may keep
// it open, and nothing waits for that.
func (m *Machine) runHooks(rep *BootReport, opts BootOptions) (hung string) {
	timeout := opts.HookTimeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	var local []rcScript
	for _, s := range m.rcScripts() {
		if strings.HasPrefix(s.mpath, "/usr/local/") {
			local = append(local, s)
		}
	}
	skip := []string{"nostart"}
	if model, err := m.Model(); err == nil && model.Behavior.Jailed {
		skip = append(skip, "nojail")
	}
	for _, s := range rcorder(local, skip...) {
		model, err := m.Model()
		if err != nil || model.Power != PowerOn {
			return ""
		}
		if p := model.bootPool(); p != nil && model.Running != nil && hangsBefore(opts, p, model.Running.BE, s.name) {
			return s.name
		}
		if !m.enabled(s) {
			continue
		}
		rep.Hooks = append(rep.Hooks, m.runHook(s, opts.Env, timeout))
	}
	return ""
}

// runHook runs one rc.d script at boot.
func (m *Machine) runHook(s rcScript, env []string, timeout time.Duration) HookResult {
	res := HookResult{Script: s.mpath}
	cmd, err := m.rcCommand(s, "faststart", env)
	if err != nil {
		res.Exit, res.Output = 127, err.Error()
		return res
	}
	console, err := os.CreateTemp(filepath.Join(m.stateDir(), "run"), s.name+".console-")
	if err != nil {
		res.Exit, res.Output = 127, err.Error()
		return res
	}
	defer os.Remove(console.Name())
	defer console.Close()
	cmd.Stdout, cmd.Stderr = console, console
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	err = m.runWithContext(ctx, cmd)
	cancel()
	out, _ := os.ReadFile(console.Name())
	res.Output = string(out)
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Exit = ee.ExitCode()
	default:
		res.Exit = 127
		res.Output += err.Error()
	}
	return res
}

// runWithContext runs cmd as a process of the machine, killing it when
// ctx ends.
func (m *Machine) runWithContext(ctx context.Context, cmd *exec.Cmd) error {
	p, err := m.Start(cmd)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the hook and all it started
		<-done
		return fmt.Errorf("timed out after killing it: %w", ctx.Err())
	}
}

// brokenPackages lists installed packages with a program that cannot run.
func (m *Machine) brokenPackages() []string {
	db, err := readPkgDB(m.Root)
	if err != nil {
		return nil
	}
	inv := &Invocation{m: m}
	var out []string
	for _, p := range db.Packages {
		for _, f := range p.Files {
			data, err := os.ReadFile(m.HostPath(f))
			if err != nil {
				continue
			}
			if miss, _ := inv.missingObject(data, baseName(f), 0); miss != "" {
				out = append(out, fmt.Sprintf("%s-%s (%s needs %s)", p.Name, p.Version, f, baseName(miss)))
				break
			}
		}
	}
	return out
}
