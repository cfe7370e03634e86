// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The running system's root on real OpenZFS (UseRealRoot). FreeBSD's
// kernel mounts the boot environment the loader chose as / : the loader
// sets vfs.root.mountfrom to its currdev, zfs:POOL/ROOT/BE, when the
// boot environment's /etc/fstab has no line for / (stand/common/boot.c
// getrootmount), the kernel mounts that dataset as the root
// (sys/kern/vfs_mountroot.c vfs_mountroot, parse_mount), and
// libexec/rc/rc.d/root makes it read-write (mount -uw /). Then rc.d/zfs
// runs zfs mount -a (libexec/rc/rc.d/zfs zfs_start_main), which mounts the
// datasets outside the boot environment with canmount=on at their
// mountpoints (the pool's root dataset at /zroot, zroot/var/log ...),
// making their directories in the root file system where they are
// missing (lib/libzfs/libzfs_mount.c zfs_mount_at, mkdirp).
//
// In the guest, the machine's root directory is the mountpoint of the
// chosen boot environment's real dataset, mounted read-write: what runs
// in that boot (freebsd-update install, pkg, rc.conf edits, zupgrade's
// own files) writes into the real dataset, kept or lost on a power cut
// as ZFS keeps it (what was synced or fsynced is in the ZIL, which the
// next mount replays: module/zfs/zil.c zil_replay), and the next boot
// reads it back. The guest's init does not switch_root into it: the
// guest agent, the simulated commands and the machine's model run from
// the initramfs and the ext4 disk, and a switch_root would leave the
// model behind. The directories that are not the boot environment's
// (beExcluded: the machine's own .simhost, and the file systems outside
// the boot environment, e.g. /zroot where a staged run keeps its
// journal, /var/log, /tmp) stay on the ext4 disk and are bind-mounted
// into the real root at their places, as zfs mount -a puts those file
// systems there: they keep working as before, the same in every boot
// environment.

// realRootFileName, in the machine's state directory, marks a machine
// whose running system's root is its boot environment's real dataset.
const realRootFileName = "real-root"

// UseRealRoot makes the running system's root the real dataset of the
// boot environment that booted, mounted at the machine's root directory
// (with UseRealZFS): the files of the running system are moved into it
// at the next ResumeRealRoot or boot.
func (m *Machine) UseRealRoot() error {
	if m.realZFS() == "" {
		return fmt.Errorf("a real root needs real OpenZFS: UseRealZFS first")
	}
	return os.WriteFile(filepath.Join(m.stateDir(), realRootFileName), nil, 0o644)
}

// realRoot reports whether the running system's root is its real dataset.
func (m *Machine) realRoot() bool {
	if m.realZFS() == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(m.stateDir(), realRootFileName))
	return err == nil
}

// underDir is where the ext4 directory under the machine's root stays
// reachable while the real root is mounted over it.
func (m *Machine) underDir() string { return m.Root + ".disk" }

// ResumeRealRoot mounts the running system's real root again in a new
// launch of the guest, in which the machine runs on (its model says so)
// but nothing of the last launch is mounted. The first time, the files
// of the running boot environment, on the ext4 disk since the machine
// was made, move into its real dataset, as an installer writes the
// system into the boot environment it made. A machine without a real
// root, or one that is not running, is left as it is.
func (m *Machine) ResumeRealRoot() error {
	if !m.realRoot() {
		return nil
	}
	return m.Update(func(model *Model) error {
		if model.Running == nil || model.Power != PowerOn || isMountPoint(m.Root) {
			return nil
		}
		be := model.Running.BE
		_, d := model.dataset(be)
		if d == nil {
			return fmt.Errorf("the running boot environment %s is not in the model", be)
		}
		if !d.RealFiles {
			if err := m.installRealRoot(model, d); err != nil {
				return err
			}
		}
		if err := m.mountRealRoot(model, be); err != nil {
			return err
		}
		// A boot environment bectl mounted in the last launch is mounted
		// again where it was.
		b := realPools{dir: m.realZFS()}
		for _, p := range model.Pools {
			for _, o := range p.Datasets {
				if o.RealFiles && o.Mounted != "" {
					if err := b.mountReal(o.Name, m.HostPath(o.Mounted), false); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// installRealRoot moves the files of the running boot environment d from
// the machine's root directory into its real dataset.
func (m *Machine) installRealRoot(model *Model, d *Dataset) error {
	exclude := beExcluded(model)
	if err := m.snapshotRunning(model, d.Name); err != nil {
		return err
	}
	if err := (realPools{dir: m.realZFS()}).writeRealBE(d.Name, m.storePath(d.Name)); err != nil {
		return err
	}
	if err := os.RemoveAll(m.storePath(d.Name)); err != nil {
		return err
	}
	return clearTree(m.Root, exclude)
}

// mountRealRoot mounts boot environment be's real dataset read-write at
// the machine's root directory, then binds the directories outside the
// boot environment from the ext4 disk at their places in it. The model's
// stored copy of be goes: its files are the real dataset's.
func (m *Machine) mountRealRoot(model *Model, be string) error {
	_, d := model.dataset(be)
	if d == nil {
		return fmt.Errorf("no boot environment %s", be)
	}
	exclude := beExcluded(model)
	b := realPools{dir: m.realZFS()}
	mount := realMountProgram(b.dir, "mount")
	under := m.underDir()
	if err := os.MkdirAll(under, 0o755); err != nil {
		return err
	}
	if err := b.real(mount, "-o", "bind", m.Root, under); err != nil {
		return err
	}
	if err := b.mountReal(be, m.Root, false); err != nil {
		return err
	}
	sort.Strings(exclude) // parents before what is in them
	for _, x := range exclude {
		if _, ok := statDir(filepath.Join(under, x)); !ok {
			continue // a boot environment bectl mounted: not on the disk
		}
		dst := m.HostPath(x)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		if err := b.real(mount, "-o", "bind", filepath.Join(under, x), dst); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(m.storePath(be)); err != nil {
		return err
	}
	d.RealFiles = true
	model.RootFiles = be
	return nil
}

// unmountRealRoot unmounts the real root and everything mounted in it,
// deepest first, as the reset of a running system ends its mounts; the
// model then keeps no files at the root (RootFiles ""), and the boot
// reads every boot environment from its real dataset (readRealBEs). The
// unmounts are lazy (umount -l): a process of the system that ended may
// still have a file open there.
func (m *Machine) unmountRealRoot(model *Model) error {
	if !m.realRoot() {
		return nil
	}
	points, err := mountsBelow(m.Root)
	if err != nil {
		return err
	}
	if under := m.underDir(); isMountPoint(under) {
		points = append(points, under)
	}
	b := realPools{dir: m.realZFS()}
	for _, p := range points {
		if err := b.real(realMountProgram(b.dir, "umount"), "-l", p); err != nil {
			return err
		}
	}
	if model.realRootFiles() {
		model.RootFiles = ""
	}
	return nil
}

// switchRealRoot is the switch of boot environments with a real root:
// be's real dataset becomes the root. Files of the machine's root
// directory that are still on the ext4 disk (a machine never booted in
// the guest) move into their boot environment's real dataset first.
func (m *Machine) switchRealRoot(model *Model, be string) error {
	if _, d := model.dataset(model.RootFiles); d != nil && !d.RealFiles {
		if err := m.installRealRoot(model, d); err != nil {
			return err
		}
	}
	return m.mountRealRoot(model, be)
}

// realRootFiles reports whether the dataset at the root keeps its files
// in its real dataset.
func (model *Model) realRootFiles() bool {
	_, d := model.dataset(model.RootFiles)
	return d != nil && d.RealFiles
}

// mountsBelow lists the mount points at dir and below it, deepest first,
// from /proc/self/mountinfo (its fifth field, with spaces and the like
// written as octal escapes: fs/proc_namespace.c show_mountinfo).
func mountsBelow(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMountinfo(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	// Later mounts over earlier ones, deeper before shallower.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.Count(out[i], "/") > strings.Count(out[j], "/") })
	return out, sc.Err()
}

// unescapeMountinfo undoes the octal escapes of a mountinfo path.
func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// OutsideBootEnvironment reports whether the machine path p is on a file
// system outside the boot environment (the pool's root dataset at
// /zroot, /var/log, /tmp ...), whose files stay on the machine's own disk
// with a real root; false for the boot environment's own paths, which
// are in its real dataset then.
func (model *Model) OutsideBootEnvironment(p string) bool {
	for _, x := range beExcluded(model) {
		if p == x || strings.HasPrefix(p, x+"/") {
			return true
		}
	}
	return false
}
