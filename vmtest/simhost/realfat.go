// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// With real disks (UseRealDisks) the ESPs are real FAT file systems in
// the real partitions, mounted with the guest's own FAT driver (Linux
// vfat stands for FreeBSD's msdosfs, sys/fs/msdosfs): mount_msdosfs
// mounts the real partition, what is written under the mount point lands
// on it as real files, umount unmounts it, newfs_msdos makes a real FAT,
// and the boot decision reads every ESP from the real disk. The model's
// FAT follows the real one each time it is mounted or booted from.

// realProgs is where the guest's own mount, umount, sync and mkdosfs are
// (busybox's applets); they are run by path, never through the PATH of
// the machine, whose mount is simhost's.
const realProgs = "/bin"

// realESPDir is where the real FAT of partition p of disk d is mounted.
func (m *Machine) realESPDir(d *Disk, p *Partition) string {
	return filepath.Join(m.stateDir(), "esp", partName(d, p))
}

// runReal runs one of the guest's own programs, failing with what it said.
func runReal(prog string, args ...string) error {
	cmd := exec.Command(filepath.Join(realProgs, prog), args...)
	cmd.Env = []string{"PATH=" + realProgs, "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// mountRealESP mounts the real partition of d and p (read-only when ro)
// and makes the model's FAT what the real one holds. It fails, leaving
// nothing mounted, when the partition holds no FAT file system the
// driver accepts: mount_msdosfs's "Invalid argument".
func (m *Machine) mountRealESP(devDir string, d *Disk, p *Partition, ro bool) (string, error) {
	dir := m.realESPDir(d, p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	runReal("umount", dir) // what an earlier boot of this guest left mounted
	args := []string{"-t", "vfat"}
	if ro {
		args = append(args, "-o", "ro")
	}
	if err := runReal("mount", append(args, filepath.Join(devDir, partName(d, p)), dir)...); err != nil {
		return "", err
	}
	f, err := readRealFAT(filepath.Join(devDir, partName(d, p)), dir)
	if err != nil {
		runReal("umount", dir)
		return "", err
	}
	p.FAT, p.Data, p.Corrupt = f, nil, ""
	return dir, nil
}

// readRealFAT reads a mounted real FAT file system: its label, FAT type
// and serial from the boot sector (sys/fs/msdosfs/bootsect.h: the FAT32
// extended boot record at offset 64, bsVolID and bsVolLab, bsFileSysType
// "FAT32"; FAT12 and FAT16 keep theirs at offset 36), and every file and
// directory under dir, all as synced.
func readRealFAT(dev, dir string) (*FAT, error) {
	bs := make([]byte, 512)
	df, err := os.Open(dev)
	if err != nil {
		return nil, err
	}
	_, err = df.ReadAt(bs, 0)
	df.Close()
	if err != nil {
		return nil, err
	}
	f := &FAT{Bits: 32}
	ext := bs[64:]
	switch {
	case bytes.HasPrefix(bs[82:], []byte("FAT32")):
	case bytes.HasPrefix(bs[54:], []byte("FAT16")):
		f.Bits, ext = 16, bs[36:]
	default:
		f.Bits, ext = 12, bs[36:]
	}
	f.Serial = binary.LittleEndian.Uint32(ext[3:7])
	f.Label = strings.TrimRight(string(ext[7:18]), " ")
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		ff := &FATFile{Path: filepath.ToSlash(rel), Dir: e.IsDir()}
		if !e.IsDir() {
			if ff.Data, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		f.Files = append(f.Files, ff)
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.Synced = cloneFAT(f.Files)
	return f, nil
}

// syncRealESPs reads every present ESP from the real disk into the model
// before the firmware looks at them (stand/efi: the firmware and
// loader.efi read the ESP's files through the firmware's own FAT
// driver): a partition the FAT driver does not accept holds no FAT file
// system.
func (m *Machine) syncRealESPs(model *Model, devDir string) error {
	for _, d := range model.Disks {
		if d.Missing {
			continue
		}
		for _, p := range d.Partitions {
			if p.Type != "efi" {
				continue
			}
			dir, err := m.mountRealESP(devDir, d, p, true)
			if err != nil {
				p.FAT = nil
				continue
			}
			if err := runReal("umount", dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// realFATPath is where a file of a mounted ESP is on the real mount,
// "" when the ESP is the model's only.
func (v vfile) realFATPath() string {
	if v.mount == nil || v.mount.Real == "" {
		return ""
	}
	return filepath.Join(v.mount.Real, filepath.FromSlash(v.fatPath))
}

// remountRealESPs mounts for real the ESPs the model has mounted where
// the real FAT is not (the machine was made with its fstab's ESP mounted,
// or the guest restarted since): a mount of the model is a mount of the
// real partition. One the FAT driver refuses stays the model's only (and
// the harness, which reads the real ESPs after the guest, sees it).
func (m *Machine) remountRealESPs(model *Model, devDir string) error {
	if model.Running == nil || len(model.Running.Mounts) == 0 {
		return nil
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return fmt.Errorf("the real mounts: %w", err)
	}
	for i := range model.Running.Mounts {
		mt := &model.Running.Mounts[i]
		d, p := model.disk(mt.Disk), model.partition(mt.Disk, mt.Index)
		if d == nil || p == nil || (mt.Real != "" && bytes.Contains(mounts, []byte(" "+mt.Real+" "))) {
			continue
		}
		if real, err := m.mountRealESP(devDir, d, p, false); err == nil {
			mt.Real = real
		}
	}
	return nil
}

// writeRealESP puts the files of the model's ESP p of disk d on the real
// FAT of the partition (a new disk whose ESP the admin formatted and
// filled): mounted, written, synced, unmounted; the model's FAT is then
// what the real one holds.
func (m *Machine) writeRealESP(devDir string, d *Disk, p *Partition) error {
	files := p.FAT.Files
	dir, err := m.mountRealESP(devDir, d, p, false)
	if err != nil {
		return err
	}
	for _, f := range files {
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		if f.Dir {
			err = os.MkdirAll(target, 0o755)
		} else if err = os.MkdirAll(filepath.Dir(target), 0o755); err == nil {
			err = os.WriteFile(target, f.Data, 0o644)
		}
		if err != nil {
			runReal("umount", dir)
			return err
		}
	}
	if err := runReal("umount", dir); err != nil {
		return err
	}
	_, err = m.mountRealESP(devDir, d, p, true)
	if err != nil {
		return err
	}
	return runReal("umount", dir)
}
