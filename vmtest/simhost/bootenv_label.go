// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The one-time activation on real disks: with real OpenZFS on real disks
// the pool labels' bootenv area is where bectl activate -t writes it and
// where the boot takes it from, so the model's NextBoot is not used.
// bectl writes through the running kernel (realPools.SetNextBoot:
// ZFS_IOC_SET_BOOTENV), the boot reads and clears it on the disks as the
// loader does (takeBootonce), before the kernel imports the pool.

// bootenvOnDisks is the directory of the real disks' device nodes when
// the pools' labels are real (real OpenZFS on real disks), else "".
func (m *Machine) bootenvOnDisks() string {
	if m.realZFS() == "" {
		return ""
	}
	return m.realDisks()
}

// bootenvLeaves are the device nodes of the pool's leaf vdevs on the
// disks present, in the pool's order (the loader walks the vdev tree's
// children in order and skips those it did not find: vdev_read_bootenv,
// vdev_write_bootenv_impl).
func bootenvLeaves(model *Model, p *Pool, devDir string) []string {
	var out []string
	for _, v := range p.leaves() {
		d := model.disk(v.Disk)
		part := model.partition(v.Disk, v.Index)
		if d == nil || d.Missing || part == nil {
			continue
		}
		out = append(out, filepath.Join(devDir, partName(d, part)))
	}
	return out
}

// deviceSize is a leaf's size as the labels' places count it: the
// device's size rounded down to whole labels (module/zfs/vdev.c
// vdev_open aligns the size to sizeof (vdev_label_t); the loader's
// vdev_probe does the same with the device's size).
func deviceSize(f *os.File) (int64, error) {
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	return n &^ (vdevLabelSize - 1), nil
}

// readLeafBootenv is the loader's vdev_read_bootenv of one leaf, the
// device node dev (readBootenv).
func readLeafBootenv(dev string) (nvList, error) {
	f, err := openDevice(dev, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	psize, err := deviceSize(f)
	if err != nil {
		return nil, err
	}
	env, _, err := readBootenv(f, psize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dev, err)
	}
	return env, nil
}

// readBootenv is the loader's vdev_read_bootenv of a leaf of psize bytes
// read through r: the bootenv block of the first of its four labels
// whose checksum holds, and that block.
func readBootenv(r io.ReaderAt, psize int64) (nvList, []byte, error) {
	if psize < vdevLabels*vdevLabelSize {
		return nil, nil, fmt.Errorf("too small for ZFS labels")
	}
	var errs []error
	for l := 0; l < vdevLabels; l++ {
		off := labelOffset(psize, l, vdevBootenvOff)
		block := ioBuffer(vdevPadSize)
		_, err := r.ReadAt(block, off)
		if err == nil {
			err = checkLabel(block, off)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("label %d: %w", l, err))
			continue
		}
		env, err := decodeBootenv(block)
		return env, block, err
	}
	return nil, nil, fmt.Errorf("no bootenv: %w", errors.Join(errs...))
}

// ImageBootenv reads, as the loader does (readBootenv), the bootenv of
// the freebsd-zfs partition of the raw disk image at path (found in its
// real GPT: readGPT): the version written in the area (VB_RAW 0, as
// zpool create leaves it, or VB_NVLIST 1, as libzfsbootenv writes it)
// and the freebsd:bootonce the loader finds there, "" when none.
func ImageBootenv(path string) (version uint64, bootonce string, err error) {
	t, err := readGPT(path)
	if err != nil {
		return 0, "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	for _, p := range t.parts {
		if p.Type != "freebsd-zfs" {
			continue
		}
		psize := (p.Size * 512) &^ (vdevLabelSize - 1)
		env, block, err := readBootenv(io.NewSectionReader(f, p.Start*512, p.Size*512), psize)
		if err != nil {
			return 0, "", fmt.Errorf("%s: %w", path, err)
		}
		once, _ := env.get(bootenvBootonce)
		return binary.BigEndian.Uint64(block), once.Str, nil
	}
	return 0, "", fmt.Errorf("%s: no freebsd-zfs partition", path)
}

// readPoolBootenv is the bootenv of the pool whose leaves are devs: the
// first leaf's that reads (the loader's zfs_get_bootenv_spa and
// vdev_read_bootenv; the kernel's vdev_label_read_bootenv likewise
// takes the first label it reads whole).
func readPoolBootenv(devs []string) (nvList, error) {
	var errs []error
	for _, dev := range devs {
		env, err := readLeafBootenv(dev)
		if err == nil {
			return env, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("no member of the pool is present")
	}
	return nil, errors.Join(errs...)
}

// writeLeafBootenv is the loader's vdev_write_bootenv_impl on one leaf:
// the block, sealed for each label's place, into every label whose
// vdev_phys reads with a good checksum (vdev_label_write_validate: the
// bootenv area may hold garbage, the label after it must not), synced.
func writeLeafBootenv(dev string, block []byte) error {
	f, err := openDevice(dev, os.O_RDWR)
	if err != nil {
		return err
	}
	defer f.Close()
	psize, err := deviceSize(f)
	if err != nil {
		return err
	}
	var errs []error
	for l := 0; l < vdevLabels; l++ {
		phys := labelOffset(psize, l, vdevPhysOff)
		vp := ioBuffer(vdevPhysSize)
		_, err := f.ReadAt(vp, phys)
		if err == nil {
			err = checkLabel(vp, phys)
		}
		if err == nil {
			off := labelOffset(psize, l, vdevBootenvOff)
			buf := ioBuffer(vdevPadSize)
			copy(buf, block)
			sealLabel(buf, off)
			_, err = f.WriteAt(buf, off)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to write bootenv to %s label %d: %w", dev, l, err))
		}
	}
	if err := f.Sync(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// takeBootonce is the loader's zfs_get_bootonce (stand/libsa/zfs/zfs.c
// zfs_get_bootonce_spa; gptzfsboot: stand/i386/zfsboot/zfsboot.c main;
// loader.efi: stand/efi/loader/main.c probe_zfs_currdev): it reads the
// pool's bootenv, and when freebsd:bootonce is there it removes it and
// writes what is left back to every member present, before anything is
// loaded from the boot environment it names, so the boot after this one
// is the bootfs's whatever happens. It returns that boot environment,
// "" when there is none (an empty value is none; a value not of the form
// zfs:DATASET: is reported as invalid and ignored). With real OpenZFS on
// real disks all this is on the disks' labels; else it is the model's
// NextBoot.
func (m *Machine) takeBootonce(model *Model, p *Pool, rep *BootReport) (string, error) {
	devDir := m.bootenvOnDisks()
	if devDir == "" {
		be := p.NextBoot
		p.NextBoot = ""
		return be, nil
	}
	p.NextBoot = ""
	devs := bootenvLeaves(model, p, devDir)
	env, err := readPoolBootenv(devs)
	if err != nil {
		// No readable bootenv: ENOENT to the loader, the bootfs boots.
		return "", nil
	}
	once, ok := env.get(bootenvBootonce)
	if !ok || once.Type != nvTypeString {
		return "", nil
	}
	// vdev_write_bootenv writes in the version it reads back: a list
	// that is not VB_NVLIST is wiped to an empty VB_RAW block.
	block := make([]byte, vdevPadSize)
	if v, ok := env.get(bootenvKeyVer); ok && v.Type == nvTypeUint64 && v.U64 == bootenvNVList {
		if block, err = encodeBootenv(env.without(bootenvBootonce)); err != nil {
			return "", err
		}
	} else {
		binary.BigEndian.PutUint64(block, bootenvRaw)
	}
	for _, dev := range devs {
		if err := writeLeafBootenv(dev, block); err != nil {
			rep.say("%v", err)
		}
	}
	if once.Str == "" {
		return "", nil
	}
	be := bootonceDataset(once.Str)
	if be == "" {
		rep.say("INVALID zfs bootonce: %s", once.Str)
	}
	return be, nil
}

// nextBoot is the pool's one-time boot environment as libbe reads it
// for bectl list's T (lzbe_get_boot_device, which reads the labels
// through zpool_get_bootenv): on real disks with real OpenZFS the
// labels' bootonce, else the model's NextBoot.
func (inv *Invocation) nextBoot(p *Pool) string {
	devDir := inv.m.bootenvOnDisks()
	if devDir == "" {
		return p.NextBoot
	}
	env, err := readPoolBootenv(bootenvLeaves(inv.model, p, devDir))
	if err != nil {
		return ""
	}
	once, _ := env.get(bootenvBootonce)
	return bootonceDataset(once.Str)
}

// setRealBootonce is lzbe_set_boot_device(pool, lzbe_add, DATASET or
// NULL) (lib/libzfsbootenv/lzbe_device.c), which libbe's be_activate
// with a temporary activation and be_deactivate call: the pool's
// bootenv as zpool_get_bootenv reads it from the labels (here as the
// loader reads them, readPoolBootenv: the kernel's vdev_label_read_bootenv
// differs only in reading an empty VB_RAW area as VB_RAW, which ends the
// same, as a new list), replaced by an empty list unless its version is
// VB_NVLIST; the version set to
// VB_NVLIST; freebsd:bootonce set to zfs:DATASET: or, for "", removed;
// and the list handed to the kernel (ZFS_IOC_SET_BOOTENV: zpool_set_bootenv),
// which writes it into every label of every leaf
// (vdev_label_write_bootenv).
func (b realPools) setRealBootonce(pool, devDir, dataset string) error {
	p := b.inv.model.pool(pool)
	if p == nil {
		return fmt.Errorf("no such pool '%s'", pool)
	}
	env, err := readPoolBootenv(bootenvLeaves(b.inv.model, p, devDir))
	if v, ok := env.get(bootenvKeyVer); err != nil || !ok || v.Type != nvTypeUint64 || v.U64 != bootenvNVList {
		env = nil
	}
	env = env.with(nvPair{Name: bootenvKeyVer, Type: nvTypeUint64, U64: bootenvNVList})
	if dataset == "" {
		env = env.without(bootenvBootonce)
	} else {
		env = env.with(nvPair{Name: bootenvBootonce, Type: nvTypeString, Str: "zfs:" + dataset + ":"})
	}
	return setBootenv(pool, env)
}
