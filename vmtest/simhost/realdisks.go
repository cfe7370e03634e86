// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// realDisksFileName, in the machine's state directory, names the
// directory of the real device nodes of the machine's disks (ada0,
// ada0p1 ...): in a VM guest with real GPT disks, gpart bootcode writes
// the boot code into them and the boot decision reads it back from them.
const realDisksFileName = "real-disks"

// bootReadWindow is how much of a freebsd-boot partition the boot
// decision reads back: what the boot code parser looks at (parseBlob).
const bootReadWindow = 64 * 1024

// UseRealDisks makes the machine's disks the real ones whose device nodes
// are in devDir, named as the model's disks and partitions.
func (m *Machine) UseRealDisks(devDir string) error {
	if !filepath.IsAbs(devDir) || strings.ContainsAny(devDir, "\n") {
		return fmt.Errorf("real disks: %q is not an absolute directory", devDir)
	}
	return os.WriteFile(filepath.Join(m.stateDir(), realDisksFileName), []byte(devDir+"\n"), 0o644)
}

// realDisks is the directory of the real disks' device nodes, "" when the
// disks are the model's only.
func (m *Machine) realDisks() string {
	data, err := os.ReadFile(filepath.Join(m.stateDir(), realDisksFileName))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// writeRealBootcode writes what gpart bootcode wrote into the model to the
// real disk as well (sbin/geom/class/part/geom_part.c gpart_bootcode and
// gpart_write_partcode): the boot code's first 446 bytes into sector 0,
// before the partition table (sys/geom/part/g_part_gpt.c
// g_part_gpt_bootcode copies at most DOSPARTOFF bytes), and the partition
// code zero-padded to a sector at the start of the partition; both synced.
func writeRealBootcode(devDir string, d *Disk, bootcode []byte, p *Partition, partcode []byte) error {
	write := func(dev string, data []byte) error {
		f, err := os.OpenFile(filepath.Join(devDir, dev), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(data, 0); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if bootcode != nil {
		if err := write(d.Name, bootcode[:min(446, len(bootcode))]); err != nil {
			return err
		}
	}
	if p != nil {
		return write(partName(d, p), padSector(partcode))
	}
	return nil
}

// syncRealDisks reads the boot code of every present disk from the real
// disk into the model: sector 0's boot area, and the start of each
// freebsd-boot partition (what pmbr loads: stand/i386/pmbr/pmbr.S reads
// the first freebsd-boot partition). Zeros read as no boot code.
func (m *Machine) syncRealDisks(model *Model, devDir string) error {
	read := func(dev string, n int) ([]byte, error) {
		f, err := os.Open(filepath.Join(devDir, dev))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		buf := make([]byte, n)
		got, err := f.ReadAt(buf, 0)
		if err != nil && err != io.EOF {
			return nil, err
		}
		return buf[:got], nil
	}
	for _, d := range model.Disks {
		if d.Missing {
			continue
		}
		area, err := read(d.Name, 446)
		if err != nil {
			return fmt.Errorf("the real disk %s: %w", d.Name, err)
		}
		d.BootArea = nil
		if len(bytes.TrimRight(area, "\x00")) > 0 {
			d.BootArea = area
		}
		for _, p := range d.Partitions {
			if p.Type != "freebsd-boot" {
				continue
			}
			data, err := read(partName(d, p), bootReadWindow)
			if err != nil {
				return fmt.Errorf("the real partition %s: %w", partName(d, p), err)
			}
			used := len(bytes.TrimRight(data, "\x00"))
			p.Data = nil
			if used > 0 {
				p.Data = padSector(data[:used])
			}
		}
	}
	return nil
}

// memberOn is the pool with a member on disk and that member's name,
// as zpool status prints it (the path its label records, less /dev/:
// ada1p4, gpt/zfs1); "" when no pool has one.
func (m *Model) memberOn(disk string) (pool, name string) {
	for _, p := range m.Pools {
		for _, v := range p.leaves() {
			if v.Disk == disk {
				return p.Name, v.Name
			}
		}
	}
	return "", ""
}

// replaceReal does on the real disk and pool what ReplaceDisk did in the
// model, when the machine has them: the new disk (already in place, with
// the others' partition table, labelled as the replacement says) gets the
// boot code the model's replacement wrote (pmbr and gptzfsboot, when it
// wrote any), and the member old of pool is replaced by the new disk's
// partition, named as the model named the new member. When both names are
// the same (a pool on device names, or on GPT labels the admin gave the
// new disk again), that is zpool replace POOL DEVICE: with no new device
// the old one's path is used, for a disk that failed and was physically
// replaced (zpool-replace.8). Otherwise it is zpool replace POOL OLD NEW
// with the old member by its full path: libzfs_pool.c zpool_find_vdev
// looks a device up by the path its label records (ZPOOL_CONFIG_PATH), a
// name without a leading slash only once zfs_resolve_shortname found it
// under /dev, and the old disk's names (/dev/gpt/zfs1 on FreeBSD, where
// GEOM's label class names a labelled partition so) left with the disk;
// a device that matches no member is EZFS_NODEVICE, "no such device in
// pool". The resilver runs on in the real pool.
func (m *Machine) replaceReal(model *Model, r Replacement, pool, old string) error {
	d := model.disk(r.Disk)
	if dir := m.realDisks(); dir != "" && d != nil {
		// The new disk's partition table is the real one (gpart restore
		// gives it new GUIDs: g_part_gpt.c g_part_gpt_add generates
		// ent_uuid when none is given).
		if err := adoptGPT(model, r.Disk, filepath.Join(dir, r.Disk)); err != nil {
			return fmt.Errorf("the new disk %s: %w", r.Disk, err)
		}
		for _, p := range d.Partitions {
			if p.Type == "freebsd-boot" && len(bytes.TrimRight(p.Data, "\x00")) > 0 {
				if err := writeRealBootcode(dir, d, d.BootArea, p, p.Data); err != nil {
					return fmt.Errorf("the new disk %s: %w", r.Disk, err)
				}
			}
			if p.Type == "efi" && p.FAT != nil {
				if err := m.writeRealESP(dir, d, p); err != nil {
					return fmt.Errorf("the new disk %s: %w", r.Disk, err)
				}
			}
		}
	}
	dir := m.realZFS()
	_, name := model.memberOn(r.Disk)
	if dir == "" || old == "" || name == "" {
		return nil
	}
	if name == old {
		return realPools{dir: dir}.real("zpool", "replace", "-f", pool, old)
	}
	return realPools{dir: dir}.real("zpool", "replace", "-f", pool, "/dev/"+old, name)
}

// AdoptGPT gives the model's disk the partition table of the real disk
// image that will stand for it (readGPT): its size, usable sectors, and
// each partition's place, unique GUID and label, so that what gpart reads
// from the real disk and what the model holds (the pool's members, the
// firmware's boot entries, which name an ESP by its GUID) agree. The
// real table must have the model's partitions, index for index and type
// for type.
func (m *Machine) AdoptGPT(disk, image string) error {
	return m.Update(func(model *Model) error { return adoptGPT(model, disk, image) })
}

// adoptGPT is AdoptGPT on a model in hand.
func adoptGPT(model *Model, disk, image string) error {
	t, err := readGPT(image)
	if err != nil {
		return err
	}
	d := model.disk(disk)
	if d == nil {
		return fmt.Errorf("the machine has no disk %s", disk)
	}
	if len(t.parts) != len(d.Partitions) {
		return fmt.Errorf("%s has %d partitions, the model's %s %d", image, len(t.parts), disk, len(d.Partitions))
	}
	for _, rp := range t.parts {
		p := model.partition(disk, rp.Index)
		if p == nil || p.Type != rp.Type {
			return fmt.Errorf("%s's partition %d is %s; the model's %s has no such partition there", image, rp.Index, rp.Type, disk)
		}
		for _, e := range model.Firmware.Entries {
			if e.PartUUID == p.RawUUID {
				e.PartUUID = rp.RawUUID
			}
		}
		p.Start, p.Size, p.RawUUID, p.Label = rp.Start, rp.Size, rp.RawUUID, rp.Label
	}
	d.Sectors, d.First = t.sectors, t.first
	return nil
}
