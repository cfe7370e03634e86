// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Boot code files on a FreeBSD host, as freebsd-update installs them.
const (
	// PMBRPath is the protective MBR boot code written to sector 0 of GPT disks.
	PMBRPath = "/boot/pmbr"
	// GPTZFSBootPath is the BIOS boot code written to freebsd-boot partitions.
	GPTZFSBootPath = "/boot/gptzfsboot"
	// LoaderEFIPath is the UEFI loader copied onto EFI system partitions.
	LoaderEFIPath = "/boot/loader.efi"
)

// BootTargets are the places on one disk that boot code goes to: its
// freebsd-boot partitions (BIOS, gptzfsboot) and its EFI system partitions
// (UEFI, loader.efi).
type BootTargets struct {
	// Geom is the partition table, gpart's geom argument (e.g. "ada0").
	Geom string
	// Scheme is the table's scheme ("GPT", "MBR", ...).
	Scheme string
	// BootPartitions are the freebsd-boot partitions, by index.
	BootPartitions []Partition
	// ESPs are the EFI system partitions (type efi), by index.
	ESPs []Partition
}

// BootTargets returns the boot targets of the partition table geom. A table
// with neither a freebsd-boot partition nor an ESP (an MBR disk, a hand-made
// layout) is returned with both lists empty: see None and String.
func (l *Layout) BootTargets(geom string) (BootTargets, error) {
	g, ok := l.Geom(geom)
	if !ok {
		return BootTargets{}, fmt.Errorf("no partition table %q in the layout read", geom)
	}
	t := BootTargets{Geom: g.Name, Scheme: g.Scheme}
	for _, p := range g.Partitions {
		switch p.Type {
		case TypeFreeBSDBoot:
			t.BootPartitions = append(t.BootPartitions, p)
		case TypeEFI:
			t.ESPs = append(t.ESPs, p)
		}
	}
	return t, nil
}

// None reports whether the disk has neither a freebsd-boot partition nor an
// ESP: zupgrade cannot update its boot code and must say so.
func (t BootTargets) None() bool {
	return len(t.BootPartitions) == 0 && len(t.ESPs) == 0
}

// String describes the targets for plans and reports, e.g.
// "ada0 (GPT): freebsd-boot index 2 (ada0p2, 512K); ESP ada0p1 (260M, label efiboot0)".
func (t BootTargets) String() string {
	if t.None() {
		return fmt.Sprintf("%s (%s): neither a freebsd-boot partition nor an EFI system partition", t.Geom, t.Scheme)
	}
	var parts []string
	for _, p := range t.BootPartitions {
		parts = append(parts, fmt.Sprintf("freebsd-boot index %d (%s, %s)", p.Index, p.Name, humanBytes(p.Size())))
	}
	if len(t.BootPartitions) == 0 {
		parts = append(parts, "no freebsd-boot partition")
	}
	for _, p := range t.ESPs {
		desc := humanBytes(p.Size())
		if p.Label != "" {
			desc += ", label " + p.Label
		}
		parts = append(parts, fmt.Sprintf("ESP %s (%s)", p.Name, desc))
	}
	if len(t.ESPs) == 0 {
		parts = append(parts, "no ESP")
	}
	return fmt.Sprintf("%s (%s): %s", t.Geom, t.Scheme, strings.Join(parts, "; "))
}

// BootcodeArgv returns the command that writes the protective MBR and
// gptzfsboot to the disk, for one of its freebsd-boot partitions:
//
//	gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i N GEOM
//
// It refuses a partition that is not one of t's freebsd-boot partitions (an
// ESP in particular) and tables that are not GPT, where pmbr does not belong.
func (t BootTargets) BootcodeArgv(p Partition) ([]string, error) {
	return t.BootcodeArgvFrom(p, path.Dir(GPTZFSBootPath))
}

// BootcodeArgvFrom is BootcodeArgv with pmbr and gptzfsboot taken from
// the directory bootDir (the /boot of a mounted boot environment).
func (t BootTargets) BootcodeArgvFrom(p Partition, bootDir string) ([]string, error) {
	if t.Scheme != "GPT" {
		return nil, fmt.Errorf("%s is partitioned %s, not GPT: gptzfsboot and pmbr do not apply", t.Geom, t.Scheme)
	}
	if p.Type != TypeFreeBSDBoot {
		return nil, fmt.Errorf("partition %s is of type %q, not freebsd-boot: refusing to write BIOS boot code to it", p.Name, p.Type)
	}
	for _, bp := range t.BootPartitions {
		if bp.Name == p.Name && bp.Index == p.Index && p.Index > 0 {
			return []string{"gpart", "bootcode", "-b", path.Join(bootDir, path.Base(PMBRPath)), "-p", path.Join(bootDir, path.Base(GPTZFSBootPath)), "-i", strconv.Itoa(p.Index), t.Geom}, nil
		}
	}
	return nil, fmt.Errorf("partition %s (index %d) is not a freebsd-boot partition of %s", p.Name, p.Index, t.Geom)
}

// CheckPartcodeFits reports whether boot code of size bytes (the size of
// /boot/gptzfsboot) fits the freebsd-boot partition p. gpart writes the
// whole file at the start of the partition, padded to a whole sector, and
// refuses with "not enough space" when the partition is smaller.
func CheckPartcodeFits(p Partition, size int64) error {
	if p.Type != TypeFreeBSDBoot {
		return fmt.Errorf("partition %s is of type %q, not freebsd-boot", p.Name, p.Type)
	}
	if size <= 0 {
		return fmt.Errorf("boot code for %s is empty", p.Name)
	}
	avail := p.Size()
	if avail == 0 {
		return fmt.Errorf("the size of partition %s is not known", p.Name)
	}
	sector := p.SectorSize
	if sector == 0 {
		sector = 512
	}
	need := (uint64(size) + sector - 1) / sector * sector
	if need > avail {
		return fmt.Errorf("boot code of %d bytes (%d with sector padding) does not fit freebsd-boot partition %s of %d bytes (%s)",
			size, need, p.Name, avail, humanBytes(avail))
	}
	return nil
}

// humanBytes renders a size the way gpart does: "512K", "2.0G", "260M".
func humanBytes(n uint64) string {
	const units = "BKMGTPE"
	if n < 1024 {
		return strconv.FormatUint(n, 10) + "B"
	}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v < 9.95 {
		return strconv.FormatFloat(v, 'f', 1, 64) + string(units[i])
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + string(units[i])
}
