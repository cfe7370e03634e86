// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Boot environments on real OpenZFS: a boot environment's files are in
// its real dataset from bectl create on. bectl create puts the running
// system's files into the running boot environment's real dataset before
// the real snapshot (realPools.Snapshot), so the real clone holds them;
// bectl mount mounts the real clone (lib/libbe/be_access.c be_mount_iter:
// zmount of the boot environment's dataset at the path, its canmount and
// mountpoint properties ignored), so that what freebsd-update -b and
// pkg -r write lands in the real dataset; bectl umount unmounts it
// (be_unmount). The boot reads
// every such boot environment back from its real dataset (readRealBEs)
// before the loader chooses one, so a wrong bootfs or a wrong clone shows
// as the wrong system booting. The one-time activation (bectl activate
// -t) is real too on real disks: libbe writes it into the pool labels'
// bootenv area (lib/libbe/be.c be_activate, libzfsbootenv
// lzbe_set_boot_device), which OpenZFS on Linux has no command for, so
// simhost makes the ioctl itself (bootenv_label.go setRealBootonce), and
// the boot reads and clears it on the disks as the loader does
// (takeBootonce).

// mountReal mounts the real dataset at the host directory dir with the
// guest's mount(8) (mount -t zfs DATASET DIR: Linux's zfs file system
// takes the dataset's name as the source and mounts it where it is told,
// module/os/linux/zfs/zpl_super.c zpl_mount).
func (b realPools) mountReal(dataset, dir string, readonly bool) error {
	args := []string{"-t", "zfs"}
	if readonly {
		args = append(args, "-o", "ro")
	}
	return b.real(realMountProgram(b.dir, "mount"), append(args, dataset, dir)...)
}

// realMountProgram is the mount or umount program beside the real zpool,
// else the guest's own in /bin.
func realMountProgram(dir, name string) string {
	if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
		return name
	}
	return filepath.Join("/bin", name)
}

// writeRealBE makes the real dataset hold exactly the files under src.
func (b realPools) writeRealBE(dataset, src string) error {
	tmp, err := os.MkdirTemp("", "simhost-be.")
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := b.mountReal(dataset, tmp, false); err != nil {
		return err
	}
	ents, err := os.ReadDir(tmp)
	for _, e := range ents {
		if err == nil {
			err = os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
	if err == nil {
		err = copyTree(src, tmp, nil)
	}
	if uerr := b.real(realMountProgram(b.dir, "umount"), tmp); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("the files of %s into its real dataset: %w", dataset, err)
	}
	return nil
}

// mountBE is bectl mount on real OpenZFS: the real dataset at point, its
// files there; the model's stored copy goes, the real dataset has them.
func (b realPools) mountBE(d *Dataset, point string) error {
	dst := b.inv.m.HostPath(point)
	if err := b.mountReal(d.Name, dst, false); err != nil {
		return err
	}
	d.Mounted, d.RealFiles = point, true
	os.RemoveAll(b.inv.m.storePath(d.Name))
	return os.MkdirAll(dst+"/dev", 0o555)
}

// unmountRealBE unmounts a boot environment mounted from its real
// dataset; after a reboot or a power cut of the guest it is no longer
// mounted, and only the model learns it.
func (m *Machine) unmountRealBE(d *Dataset) error {
	dst := m.HostPath(d.Mounted)
	dir := m.realZFS()
	if err := (realPools{dir: dir}).real(realMountProgram(dir, "umount"), dst); err != nil && isMountPoint(dst) {
		return err
	}
	d.Mounted = ""
	return nil
}

// isMountPoint reports whether dir is on another file system than its
// parent.
func isMountPoint(dir string) bool {
	st, err1 := os.Stat(dir)
	up, err2 := os.Stat(filepath.Dir(dir))
	if err1 != nil || err2 != nil {
		return false
	}
	a, ok1 := st.Sys().(*syscall.Stat_t)
	b, ok2 := up.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && a.Dev != b.Dev
}

// readRealBEs reads the files of every boot environment whose files are
// in its real dataset back from it into the store (mounted read-only at
// a directory of its own), where the boot decision and the switch of
// boot environments find them: what the real clone holds is what boots.
func (m *Machine) readRealBEs(model *Model, dir string) error {
	b := realPools{dir: dir}
	for _, p := range model.Pools {
		for _, d := range p.Datasets {
			if !d.RealFiles {
				continue
			}
			if err := m.unmountBE(d); err != nil {
				return fmt.Errorf("unmount %s: %w", d.Name, err)
			}
			tmp, err := os.MkdirTemp("", "simhost-be.")
			if err != nil {
				return err
			}
			if err := b.mountReal(d.Name, tmp, true); err != nil {
				os.Remove(tmp)
				return err
			}
			store := m.storePath(d.Name)
			os.RemoveAll(store)
			err = copyTree(tmp, store, nil)
			if uerr := b.real(realMountProgram(dir, "umount"), tmp); err == nil {
				err = uerr
			}
			os.Remove(tmp)
			if err != nil {
				return fmt.Errorf("reading %s from its real dataset: %w", d.Name, err)
			}
			d.RealFiles = false
		}
	}
	return nil
}

// realProgram resolves prog for real: an absolute path as it is, else
// the program in the real OpenZFS directory.
func realProgram(dir, prog string) string {
	if strings.HasPrefix(prog, "/") {
		return prog
	}
	return filepath.Join(dir, prog)
}

// realCommand is the real program prog with args, in the environment the
// real programs run in.
func realCommand(dir, prog string, args ...string) *exec.Cmd {
	cmd := exec.Command(realProgram(dir, prog), args...)
	cmd.Env = []string{"PATH=" + dir + ":/sbin:/bin", "LC_ALL=C"}
	return cmd
}
