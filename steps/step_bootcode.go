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

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/gpart"
	"github.com/zupgrade/zupgrade/host"
)

// bootcodeStep writes BIOS boot code to every freebsd-boot partition and the
// loader to every formatted ESP of every disk of the boot pool.
// bootcodeStep writes BIOS boot code and EFI loaders to every disk of the
// boot pool (and keeps FreeBSD's programs on other ESPs current), then
// reads them back.
type bootcodeStep struct{}

func (bootcodeStep) id() string       { return StepBootcode }
func (bootcodeStep) rerunnable() bool { return true }

func (bootcodeStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.bootcodeDone(ctx)
}

func (bootcodeStep) run(sc *stepContext, ctx context.Context) error { return sc.runBootcode(ctx) }

func (bootcodeStep) plan(b builder) Step {
	if b.t.mode != "patch" {
		return b.bootcode(StepBootcode, "Write the new boot code to every boot-pool disk")
	}
	s := b.bootcode(StepBootcode, "Write boot code to every boot-pool disk if /boot changed")
	s.Notes = append(s.Notes, "skipped when the boot files on every disk already equal /boot")
	return s
}

// bootcode plans the boot code operations for every disk of the boot pool.
func (b builder) bootcode(id, title string) Step {
	s := Step{ID: id, Title: title,
		Verify: Verification{Check: VerifyBootcode}}
	fallback := facts.FallbackName(b.f.Machine)
	order := b.bootOrder()
	for _, d := range b.bootDisks() {
		for _, bp := range d.BootPartitions {
			op := &WriteBootcode{Disk: d.Name, Scheme: d.Scheme, Partition: bp.Name, Index: bp.Index, BootDir: b.bootDir()}
			if err := op.check(); err != nil {
				s.Notes = append(s.Notes, err.Error())
				continue
			}
			s.Commands = append(s.Commands, cmdFor(op, Cond{}))
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
				s.Commands = append(s.Commands, cmdFor(&FormatESP{Disk: d.Name, ESP: e.Name}, Cond{If: CondNoFileSystem, ESP: e.Name}))
			case e.Format == "unknown":
				s.Notes = append(s.Notes, fmt.Sprintf("%s (ESP of %s): file system unknown (%s); apply checks it before writing", e.Name, d.Name, e.FormatText))
			}
			// Give a disk without a boot entry for FreeBSD's loader one,
			// so that the firmware starts it there when the others fail.
			entry := !isLegacyESP(e) && b.f.BootMethod == "UEFI" && b.f.EFI != nil && !b.f.EFI.HasLoaderEntry(e)
			s.Commands = append(s.Commands, espCommands(e, d.Name, b.opts.StateDir, b.fromBootDir(espCopies(b.f, e, true)), entry, &order)...)
		}
	}
	for _, d := range otherESPs(b.f) {
		for _, e := range d.ESPs {
			s.Commands = append(s.Commands, espCommands(e, d.Name, b.opts.StateDir, b.fromBootDir(espCopies(b.f, e, false)), false, &order)...)
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

// bootOrder is the firmware's BootOrder and the entries it knows, as the
// plan's efibootmgr -c and -o commands change them.
type bootOrder struct {
	order, used []string
}

// espCommands writes the copies onto an ESP: mounted where it already is,
// or on a directory of the state dir; each file is written beside its
// target and renamed over it, so that a power cut leaves the old or the new
// program, never half of one. With entry, a boot entry for FreeBSD's loader
// there is made and BootOrder put back as it was with the new entry last:
// efibootmgr -c puts it first (add_to_boot_order), which would change the
// disk the firmware starts, and the new entry is there for when the
// others fail.
// espMountPoint is where the boot code step reads and writes ESP e: where
// it is mounted already, else a directory of the state directory.
func espMountPoint(e facts.ESP, stateDir string) string {
	if e.MountPoint != "" {
		return e.MountPoint
	}
	return path.Join(stateDir, "mnt", strings.ReplaceAll(e.Name, "/", "_"))
}

func espCommands(e facts.ESP, disk, stateDir string, copies []espCopy, entry bool, order *bootOrder) []Cmd {
	mnt := espMountPoint(e, stateDir)
	var cs []Cmd
	if e.MountPoint == "" {
		cs = append(cs,
			cmdFor(&MakeDir{Path: mnt}, Cond{}),
			cmdFor(&MountESP{Disk: disk, ESP: e.Name, MountPoint: mnt}, Cond{}))
	}
	for _, c := range copies {
		target := path.Join(mnt, c.path)
		var when Cond
		if c.create {
			cs = append(cs, cmdFor(&MakeDir{Path: path.Dir(target)}, Cond{}))
		} else {
			when = Cond{If: CondFreeBSDProgram, Path: target, Program: kindOf(c.src)}
		}
		cs = append(cs,
			cmdFor(&StageLoader{Disk: disk, ESP: e.Name, MountPoint: mnt, Source: c.src, Path: c.path}, when),
			cmdFor(&PlaceLoader{Disk: disk, ESP: e.Name, MountPoint: mnt, Path: c.path}, when))
	}
	if entry {
		num := nextBootNum(order.used)
		order.used = append(order.used, num)
		order.order = append(order.order, num)
		cs = append(cs,
			cmdFor(&CreateBootEntry{Disk: disk, ESP: e.Name, MountPoint: mnt}, Cond{If: CondNoLoaderEntry, ESP: e.Name}),
			cmdFor(&SetBootOrder{Order: slices.Clone(order.order)}, Cond{If: CondEntryCreated}))
	}
	cs = append(cs, cmdFor(&Sync{}, Cond{}))
	if e.MountPoint == "" {
		cs = append(cs, cmdFor(&UnmountESP{Disk: disk, ESP: e.Name, MountPoint: mnt}, Cond{}))
	}
	return cs
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

// bootDisks are the disks of the boot pool as the plan knows them.
func (sc *stepContext) bootDisks() []facts.Disk {
	return builder{f: &sc.plan.Facts}.bootDisks()
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
		if op, ok := c.Op.(*CreateBootEntry); ok {
			labels = append(labels, op.Label())
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
				if gz, err = sc.readFile(ctx, sc.bootFile(gptzfsboot)); err != nil {
					return false, err
				}
				if pm, err = sc.readFile(ctx, sc.bootFile(pmbr)); err != nil {
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

// espWritable reports whether the plan writes loaders to the ESP.
func (sc *stepContext) espWritable(e facts.ESP) bool {
	if e.Format == "empty" {
		return sc.plan.Options.FormatESPs && !isLegacyESP(e)
	}
	return true
}

// espMount returns where the ESP can be read, mounting it on the state
// directory when it is not mounted; unmount undoes only what it did.
func (sc *stepContext) espMount(ctx context.Context, e facts.ESP) (mnt string, unmount func(), err error) {
	if e.MountPoint != "" {
		return e.MountPoint, func() {}, nil
	}
	mnt = espMountPoint(e, sc.plan.Options.StateDir)
	if _, err := sc.run(ctx, cmdFor(&MakeDir{Path: mnt}, Cond{})); err != nil {
		return "", nil, err
	}
	m := &MountESP{ESP: e.Name, MountPoint: mnt}
	if err := sc.mountESP(ctx, m); err != nil {
		return "", nil, err
	}
	return mnt, func() { sc.unmount(context.WithoutCancel(ctx), mnt) }, nil
}

// mountESP mounts the ESP. When that fails because a run that was killed
// left something mounted on the mount point (the state directory's own),
// that is unmounted and the mount tried once more; unmounting the mount
// point can only take away what is mounted on that very directory.
func (sc *stepContext) mountESP(ctx context.Context, m *MountESP) error {
	c := cmdFor(m, Cond{})
	_, err := sc.run(ctx, c)
	if err == nil {
		return nil
	}
	if uerr := sc.unmount(ctx, m.MountPoint); uerr != nil {
		return err
	}
	_, err = sc.run(ctx, c)
	return err
}

// unmount unmounts what the step mounted on mnt.
func (sc *stepContext) unmount(ctx context.Context, mnt string) error {
	_, err := sc.run(ctx, cmdFor(&UnmountESP{MountPoint: mnt}, Cond{}))
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
		c.src = sc.bootFile(c.src)
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

// writeBootcode runs the boot code operations for the disks the pool
// still has, once each of them is known to be there and to have room for
// it.
func (sc *stepContext) writeBootcode(ctx context.Context, cmds []Cmd) error {
	disks, err := sc.liveBootDisks(ctx)
	if err != nil {
		return err
	}
	cmds = bootCommandsFor(cmds, sc.bootDisks(), disks)
	gz, err := sc.readFile(ctx, sc.bootFile(gptzfsboot))
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
			sc.unmount(context.WithoutCancel(ctx), m)
		}
	}()
	staged := map[string]bool{}
	spaceChecked := map[string]bool{}
	for _, c := range cmds {
		switch op := c.Op.(type) {
		case *StageLoader:
			run, err := sc.shouldCopy(ctx, op, source)
			if err != nil {
				return err
			}
			if !run {
				continue
			}
			// Before the first copy onto an ESP: room for the new program
			// beside the old one, twice, and some slack (FAT has no
			// journal; a copy that runs out of space leaves a torn file).
			if !spaceChecked[op.MountPoint] {
				spaceChecked[op.MountPoint] = true
				data, _ := source(op.Source)
				if err := sc.checkESPSpace(ctx, op.MountPoint, len(data)); err != nil {
					return err
				}
			}
			staged[op.Target()] = true
		case *PlaceLoader:
			if !staged[op.Target()] {
				continue
			}
			delete(staged, op.Target())
		case *CreateBootEntry:
			if err := sc.createEntry(ctx, op); err != nil {
				return err
			}
			continue
		case *SetBootOrder:
			// Run by createEntry, with the order as it really was.
			continue
		case *FormatESP:
			// Format only what still holds no file system: never a
			// partition that gained one since the plan (or in an earlier
			// attempt of this step).
			dev := "/dev/" + op.ESP
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
		case *UnmountESP:
			mounted = slices.DeleteFunc(mounted, func(m string) bool { return m == op.MountPoint })
		case *MountESP:
			if err := sc.mountESP(ctx, op); err != nil {
				return sc.explainVanished(ctx, c, err)
			}
			mounted = append(mounted, op.MountPoint)
			continue
		}
		if _, err := sc.run(ctx, c); err != nil {
			return sc.explainVanished(ctx, c, err)
		}
	}
	return nil
}

// createEntry makes the boot entry, unless one starts FreeBSD's loader on
// that ESP already (running the step again must not pile up entries), and
// puts BootOrder back as it was with the new entry last: efibootmgr -c
// puts it first (add_to_boot_order). An entry of that label found first
// in BootOrder (the step was interrupted between the two) is moved last.
func (sc *stepContext) createEntry(ctx context.Context, op *CreateBootEntry) error {
	label := op.Label()
	esp, _ := sc.espNamed(op.ESP)
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
				_, err := sc.run(ctx, cmdFor(&SetBootOrder{Order: append(slices.Clone(before[1:]), before[0])}, Cond{}))
				return err
			}
		}
		return nil
	}
	if _, err := sc.run(ctx, cmdFor(op, Cond{})); err != nil {
		return err
	}
	after, err := sc.efiBoot(ctx)
	if err != nil {
		return err
	}
	for _, n := range after.BootOrder {
		if !slices.Contains(before, n) {
			_, err := sc.run(ctx, cmdFor(&SetBootOrder{Order: append(slices.Clone(before), n)}, Cond{}))
			return err
		}
	}
	return nil
}

// shouldCopy decides whether the step stages op's program for the file it
// replaces: a FreeBSD program there is replaced only by the new one of its
// kind, and only when it differs; another system's program is left alone;
// a missing file is written only where the step creates it (FreeBSD's
// loader and the fallback on the ESP of a boot-pool disk).
func (sc *stepContext) shouldCopy(ctx context.Context, op *StageLoader, source func(string) ([]byte, error)) (bool, error) {
	final := op.Target()
	res, err := sc.probe(ctx, "cat", final)
	if err != nil {
		return false, err
	}
	create := sc.createsFile(op)
	if !res.OK() || len(res.Stdout) == 0 {
		// Missing, or left empty by a power cut during a FAT write.
		return create, nil
	}
	own := create && strings.EqualFold(op.Path, gpart.ESPLoaderPath)
	switch kind := gpart.EFIProgramKind(res.Stdout); {
	case own:
		// FreeBSD's own loader path is written whatever it holds.
	case kind == "":
		if create {
			sc.note("%s is not FreeBSD's loader: left alone", final)
		}
		return false, nil
	case kind != kindOf(op.Source):
		return false, nil
	}
	want, err := source(op.Source)
	if err != nil {
		return false, err
	}
	return !bytes.Equal(res.Stdout, want), nil
}

// createsFile reports whether the plan writes op's file even when it is
// missing: FreeBSD's loader and the fallback on the ESP of a boot-pool
// disk, not a legacy one.
func (sc *stepContext) createsFile(op *StageLoader) bool {
	e, pool := sc.espNamed(op.ESP)
	if !pool || isLegacyESP(e) {
		return false
	}
	for _, c := range espCopies(&sc.plan.Facts, e, true) {
		if c.create && c.src == op.Source && strings.EqualFold(c.path, op.Path) {
			return true
		}
	}
	return false
}

// espNamed returns the plan's ESP of that name, and whether it is on a
// disk of the boot pool.
func (sc *stepContext) espNamed(name string) (facts.ESP, bool) {
	for _, pool := range []bool{true, false} {
		disks := sc.bootDisks()
		if !pool {
			disks = otherESPs(&sc.plan.Facts)
		}
		for _, d := range disks {
			for _, e := range d.ESPs {
				if e.Name == name {
					return e, pool
				}
			}
		}
	}
	return facts.ESP{}, false
}

// efiBoot reads the firmware's boot variables now.
func (sc *stepContext) efiBoot(ctx context.Context) (*gpart.EFIBoot, error) {
	out, err := host.Output(ctx, sc.e.Runner, "efibootmgr", "-v")
	if err != nil {
		return nil, err
	}
	return gpart.ParseEfibootmgr(string(out))
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

// bootDir is where the boot code step reads the new boot files: "" for
// the running system's /boot, the /boot of the mounted boot environment
// of a staged upgrade.
func (b builder) bootDir() string {
	if b.staged == nil {
		return ""
	}
	return path.Join(b.staged.MountPoint, "boot")
}

// fromBootDir makes the copies' sources those of bootDir.
func (b builder) fromBootDir(copies []espCopy) []espCopy {
	if b.staged == nil {
		return copies
	}
	for i := range copies {
		copies[i].src = path.Join(b.staged.MountPoint, copies[i].src)
	}
	return copies
}

// bootFile is the boot file p (/boot/gptzfsboot) the step writes: of the
// mounted boot environment in a staged upgrade's boot code step.
func (sc *stepContext) bootFile(p string) string {
	if sc.step.ID != StepStageBootcode || sc.plan.Staged == nil {
		return p
	}
	return path.Join(sc.plan.Staged.MountPoint, p)
}
