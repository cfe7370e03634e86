// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/gpart"
)

// boot1EFI is the boot program the legacy 800K ESPs hold.
const boot1EFI = gpart.Boot1EFIPath

// espCopy is one file the bootcode step keeps current on an ESP: path,
// relative to the ESP's root, gets src. create copies write the file when
// it is missing; the others only replace a FreeBSD program of src's kind
// (loader.efi by /boot/loader.efi, boot1.efi by /boot/boot1.efi) and
// leave missing files and other systems' programs alone.
type espCopy struct {
	src, path string
	create    bool
}

// kindOf is the kind of EFI program a source file is.
func kindOf(src string) string {
	if path.Base(src) == path.Base(boot1EFI) {
		return gpart.ProgramBoot1
	}
	return gpart.ProgramLoader
}

// isLegacyESP reports an 800K boot1.efifat ESP (installs before 12.1):
// room for boot1.efi, not for loader.efi.
func isLegacyESP(e facts.ESP) bool { return e.Size > 0 && e.Size < legacyESPSize }

// espCopies lists what the bootcode step writes to ESP e: on a boot-pool
// disk FreeBSD's loader and the fallback (boot1.efi on a legacy ESP),
// elsewhere whatever FreeBSD program is found at those places; on every
// ESP the files of the firmware's BootCurrent and BootOrder entries.
func espCopies(f *facts.Facts, e facts.ESP, poolDisk bool) []espCopy {
	fallback := facts.FallbackName(f.Machine)
	var std []string
	std = append(std, gpart.ESPLoaderPath)
	if fallback != "" {
		std = append(std, path.Join(gpart.ESPFallbackDir, fallback))
	}
	var out []espCopy
	both := func(p string) {
		out = append(out, espCopy{src: loaderEFI, path: p}, espCopy{src: boot1EFI, path: p})
	}
	switch {
	case poolDisk && isLegacyESP(e):
		// boot1.efi is the fallback there; loader.efi does not fit.
		if fallback != "" {
			out = append(out, espCopy{src: boot1EFI, path: path.Join(gpart.ESPFallbackDir, fallback)})
		}
	case poolDisk:
		for _, p := range std {
			out = append(out, espCopy{src: loaderEFI, path: p, create: true})
		}
	default:
		for _, p := range std {
			both(p)
		}
	}
	for _, p := range entryPaths(f, e) {
		if slices.ContainsFunc(std, func(s string) bool { return strings.EqualFold(s, p) }) {
			continue
		}
		if poolDisk && isLegacyESP(e) {
			out = append(out, espCopy{src: boot1EFI, path: p})
		} else {
			both(p)
		}
	}
	return out
}

// entryPaths are the files on ESP e of the entries the firmware started
// this boot from (BootCurrent) or tries (BootOrder), relative to its root.
func entryPaths(f *facts.Facts, e facts.ESP) []string {
	if f.EFI == nil {
		return nil
	}
	var out []string
	for _, en := range f.EFI.Entries {
		if !en.Current && !slices.Contains(f.EFI.BootOrder, en.Number) {
			continue
		}
		if en.Path == "" || !(en.Device == e.Name || (e.RawUUID != "" && strings.EqualFold(en.PartitionGUID, e.RawUUID))) {
			continue
		}
		p := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(en.Path, `\`, "/")), "/")
		if !slices.ContainsFunc(out, func(s string) bool { return strings.EqualFold(s, p) }) {
			out = append(out, p)
		}
	}
	return out
}

// otherESPs are the ESPs of disks outside the boot pool that hold a FAT
// file system (file -s): the others hold nothing a firmware starts, and
// mounting them would fail.
func otherESPs(f *facts.Facts) []facts.Disk {
	var out []facts.Disk
	for _, d := range f.OtherDisks {
		dd := facts.Disk{Name: d.Name, Scheme: d.Scheme}
		for _, e := range d.ESPs {
			if e.Format == "fat" {
				dd.ESPs = append(dd.ESPs, e)
			}
		}
		if len(dd.ESPs) > 0 {
			out = append(out, dd)
		}
	}
	return out
}

// loaderChecks are the checks about every program the firmware can start:
// legacy boot1 ESPs, ESPs outside the boot pool, the entries of
// BootCurrent and BootOrder, and the /boot/efi line of /etc/fstab.
func loaderChecks(f *facts.Facts, pool *facts.Pool, disks []facts.Disk) []Check {
	var cs []Check
	var legacy []string
	for _, d := range disks {
		for _, e := range d.ESPs {
			if isLegacyESP(e) {
				legacy = append(legacy, fmt.Sprintf("%s (%s, %s)", e.Name, d.Name, facts.HumanBytes(e.Size)))
			}
		}
	}
	if len(legacy) > 0 {
		cs = append(cs, Check{ID: "legacy-esp", Title: "boot1.efi on legacy ESPs can read the upgraded pool", Verdict: Warn,
			Reason: strings.Join(legacy, ", ") + ": the 800K ESPs of an install before FreeBSD 12.1; their boot1.efi reads the pool with its own, old ZFS code and stops the boot once the pool upgrade activates a feature it does not know",
			Fix:    "apply replaces boot1.efi there from " + boot1EFI + " of the new system and reads it back before zpool upgrade, which it refuses otherwise; for good, recreate each as a 260M FAT32 ESP holding " + gpart.ESPLoaderPath})
	}
	var others []string
	for _, d := range otherESPs(f) {
		for _, e := range d.ESPs {
			others = append(others, fmt.Sprintf("%s on %s", e.Name, d.Name))
		}
	}
	if len(others) > 0 {
		cs = append(cs, Check{ID: "other-esps", Title: "loaders on disks outside the boot pool", Verdict: Warn,
			Reason: strings.Join(others, ", ") + ": outside the boot pool, but the firmware can start a FreeBSD loader there that reads the pool",
			Fix:    "apply replaces every FreeBSD program found there (" + gpart.ESPLoaderPath + ", the fallback, the files of boot entries) with the new one of the same kind and reads it back before zpool upgrade"})
	}
	if c, ok := entryCheck(f, disks); ok {
		cs = append(cs, c)
	}
	if c, ok := fstabCheck(f, pool, disks); ok {
		cs = append(cs, c)
	}
	return cs
}

// entryCheck checks that the file behind BootCurrent and every FreeBSD
// entry of BootOrder is on an ESP the bootcode step keeps current.
func entryCheck(f *facts.Facts, disks []facts.Disk) (Check, bool) {
	c := Check{ID: "boot-entries", Title: "every boot entry that starts FreeBSD is kept current"}
	if f.EFI == nil || f.BootMethod == "BIOS" {
		return c, false
	}
	known := func(en facts.EFIEntry) bool {
		for _, ds := range [][]facts.Disk{disks, otherESPs(f)} {
			for _, d := range ds {
				for _, e := range d.ESPs {
					if en.Device == e.Name || (e.RawUUID != "" && strings.EqualFold(en.PartitionGUID, e.RawUUID)) {
						return true
					}
				}
			}
		}
		return false
	}
	var block, warn, ok []string
	if f.EFI.BootCurrent != "" && !slices.ContainsFunc(f.EFI.Entries, func(en facts.EFIEntry) bool { return en.Current }) {
		warn = append(warn, "BootCurrent "+f.EFI.BootCurrent+" names no boot entry efibootmgr lists (the firmware's own boot of a removable medium?)")
	}
	for _, en := range f.EFI.Entries {
		inOrder := slices.Contains(f.EFI.BootOrder, en.Number)
		if !en.Current && !inOrder {
			continue
		}
		where := en.Device + ":" + en.Path
		if en.Device == "" {
			where = "partition " + en.PartitionGUID
		}
		desc := fmt.Sprintf("Boot%s %q (%s)", en.Number, en.Label, where)
		switch {
		case en.PartitionGUID == "" && en.Device == "":
			// A whole device (the firmware's own entry for a disk, a
			// network card, a shell): for a disk the firmware starts the
			// fallback of its ESP, which the bootcode step keeps current.
			if en.Current {
				ok = append(ok, "BootCurrent Boot"+en.Number+" "+strconv.Quote(en.Label)+" names a whole device: the firmware started the fallback loader of its ESP")
			}
		case known(en) && en.Current:
			ok = append(ok, "BootCurrent "+desc)
		case known(en):
		case en.Current:
			block = append(block, "BootCurrent "+desc+" is on no disk zupgrade sees")
		case en.FreeBSDLoader || strings.Contains(strings.ToLower(en.Label), "freebsd"):
			warn = append(warn, desc+" is on no disk zupgrade sees")
		}
	}
	switch {
	case len(block) > 0:
		c.Verdict, c.Reason = Block, strings.Join(append(block, warn...), "; ")
		c.Fix = "the firmware started this system from a loader zupgrade cannot update before the pool upgrade: attach that disk, or boot from an entry on a disk of the pool (efibootmgr -n -b NUM, reboot), then plan again; --no-pool-upgrade leaves the pool as it is"
	case len(warn) > 0:
		c.Verdict, c.Reason = Warn, strings.Join(warn, "; ")
		c.Fix = "a loader there may be too old for the upgraded pool: attach the disk before apply, or remove the entry (efibootmgr -B -b NUM)"
	case len(ok) > 0:
		c.Verdict, c.Reason = OK, strings.Join(ok, "; ")+"; the bootcode step writes there"
	default:
		return c, false
	}
	return c, true
}

// fstabCheck warns about an msdosfs line of /etc/fstab that names one
// disk's ESP without failok: when that disk dies, rc (mountcritlocal) stops
// in single-user mode on every other disk.
func fstabCheck(f *facts.Facts, pool *facts.Pool, disks []facts.Disk) (Check, bool) {
	c := Check{ID: "fstab-esp", Title: "/boot/efi survives the loss of any disk"}
	if len(disks) < 2 {
		return c, false
	}
	var reasons, fixes []string
	for _, l := range f.FstabESPs {
		if l.Failok || l.Noauto {
			continue
		}
		on := "a partition zupgrade cannot find"
		if l.Disk != "" {
			on = "the ESP of " + l.Disk
		}
		reasons = append(reasons, fmt.Sprintf("/etc/fstab line %d mounts %s (%s) at %s without failok: '%s'", l.Line, l.Device, on, l.MountPoint, l.Text))
		fixes = append(fixes, fmt.Sprintf("line %d: '%s'", l.Line, withFailok(l.Text)))
	}
	if len(reasons) == 0 {
		return c, false
	}
	c.Verdict = Warn
	c.Reason = strings.Join(reasons, "; ") + fmt.Sprintf("; if that disk dies, the other disks of %s boot only to single-user mode (rc cannot mount it)", pool.Name)
	c.Fix = "add failok to the options, so that rc goes on without it: " + strings.Join(fixes, "; ")
	return c, true
}

// withFailok is an fstab line with failok added to its options.
func withFailok(line string) string {
	f := strings.Fields(line)
	if len(f) < 4 {
		return line
	}
	f[3] += ",failok"
	return strings.Join(f, "\t")
}

// nextBootNum is the number efibootmgr -c gives a new entry: the first
// one no entry uses (make_next_boot_var_name).
func nextBootNum(used []string) string {
	for i := 0; ; i++ {
		n := fmt.Sprintf("%04X", i)
		if !slices.Contains(used, n) {
			return n
		}
	}
}
