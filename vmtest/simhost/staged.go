// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"
)

// Staged upgrades: a boot environment other than the running one is
// mounted (bectl mount), upgraded in place there (freebsd-update -b, pkg
// -r or -c with devfs mounted inside it), unmounted and booted once
// (bectl activate -t). While a boot environment is mounted its files are
// at its mount point under the machine's root instead of in the store;
// Dataset.Mounted says where.

// libbe's error numbers (lib/libbe/be.h, be_error_t); bectl exits with
// them, after set_error (lib/libbe/be_error.c) printed the description
// on standard error.
const (
	beErrExists     = 2
	beErrNoent      = 3
	beErrDestroyAct = 5
	beErrDestroyMnt = 6
	beErrBadPath    = 7
	beErrPathBusy   = 8
	beErrMounted    = 12
	beErrZFSOpen    = 14
	beErrIO         = 16
	beErrUnknown    = 19
)

// beErrors are libbe_error_description's texts (lib/libbe/be_error.c).
var beErrors = map[int]string{
	beErrExists:     "boot environment name already taken",
	beErrNoent:      "specified boot environment does not exist",
	beErrDestroyAct: "cannot destroy active boot environment",
	beErrDestroyMnt: "cannot destroy mounted boot env unless forced",
	beErrBadPath:    "path not suitable for operation",
	beErrPathBusy:   "specified path is busy",
	beErrMounted:    "boot environment is already mounted",
	beErrZFSOpen:    "calling zfs_open() failed",
	beErrIO:         "input/output error",
	beErrUnknown:    "unknown error",
}

// beFail prints libbe's description of err (set_error) and returns it.
func (inv *Invocation) beFail(err int) int {
	inv.errf("%s\n", beErrors[err])
	return err
}

// bectlUsage is the first line of bectl's usage (sbin/bectl/bectl.c
// usage); bectl exits with EX_USAGE after it.
func (inv *Invocation) bectlUsage() int {
	inv.errf("Usage:\tbectl {-h | subcommand [args...]}\n")
	return 64
}

// bectlMount is bectl mount BE [MOUNTPOINT] (sbin/bectl/bectl.c
// bectl_cmd_mount, lib/libbe/be_access.c be_mount): a boot environment
// that does not exist is BE_ERR_NOENT, one that is mounted (the running
// one is mounted at /) BE_ERR_MOUNTED; without a mount point libbe makes
// one with mkdtemp("/tmp/be_mount.XXXX"), and a mount point that is not a
// directory fails in zmount (ENOENT, ENOTDIR: BE_ERR_BADPATH). bectl
// prints where it mounted it.
func bectlMount(inv *Invocation, p *Pool, args []string) int {
	if len(args) < 1 {
		inv.errf("bectl mount: missing argument(s)\n")
		return inv.bectlUsage()
	}
	if len(args) > 2 {
		inv.errf("bectl mount: too many arguments\n")
		return inv.bectlUsage()
	}
	name := args[0]
	failed := func(err int) int {
		inv.beFail(err)
		if len(args) == 2 {
			inv.errf("Failed to mount bootenv %s at %s\n", name, args[1])
		} else {
			// bectl passes the NULL mount point to printf.
			inv.errf("Failed to mount bootenv %s at temporary path (null)\n", name)
		}
		return err
	}
	_, d := inv.model.dataset(beRoot(p) + "/" + name)
	if d == nil || strings.Contains(name, "/") {
		return failed(beErrNoent)
	}
	if d.Name == inv.running().BE || d.Mounted != "" {
		return failed(beErrMounted)
	}
	var point string
	if len(args) == 2 {
		v := inv.resolve(args[1])
		if exists, dir := inv.stat(v); !exists || !dir || v.isFAT() || v.dev {
			return failed(beErrBadPath)
		}
		if ents, err := os.ReadDir(v.real); err != nil || len(ents) > 0 {
			return inv.unsupported("mounting a boot environment over a directory that is not empty")
		}
		point = v.mpath
	} else {
		var err error
		if point, err = inv.beTempDir(); err != nil {
			return failed(beErrIO)
		}
	}
	mount := inv.m.mountBE
	if rp, ok := inv.pools().(realPools); ok {
		mount = rp.mountBE
	}
	if err := mount(d, point); err != nil {
		inv.errf("simhost: bectl: %v\n", err)
		return failed(beErrIO)
	}
	inv.out("%s\n", point)
	return 0
}

// beTempDir makes be_mount's temporary mount point: mkdtemp(3) of
// /tmp/be_mount.XXXX.
func (inv *Invocation) beTempDir() (string, error) {
	const letters = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	seed := sha256Hex([]byte(inv.model.Clock.String() + fmt.Sprint(inv.model.Commands)))
	for i := 0; i+4 <= len(seed); i += 4 {
		var b strings.Builder
		for _, c := range seed[i : i+4] {
			b.WriteByte(letters[int(c)%len(letters)])
		}
		point := "/tmp/be_mount." + b.String()
		err := os.Mkdir(inv.m.HostPath(point), 0o700)
		if err == nil {
			return point, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name for /tmp/be_mount.XXXX")
}

// mountBE puts the stored files of boot environment d at the empty
// directory point.
func (m *Machine) mountBE(d *Dataset, point string) error {
	dst := m.HostPath(point)
	if err := os.Remove(dst); err != nil {
		return err
	}
	src := m.storePath(d.Name)
	if _, ok := statDir(src); !ok {
		if err := os.MkdirAll(src, 0o755); err != nil {
			return err
		}
	}
	if err := os.Rename(src, dst); err != nil {
		os.Mkdir(dst, 0o755)
		return err
	}
	d.Mounted = point
	// Every root file system has the empty directory devfs is mounted on
	// (etc/mtree/BSD.root.dist lists /dev); the machine's own tree leaves
	// it out, as its /dev is the model's devices.
	return os.MkdirAll(dst+"/dev", 0o555)
}

// unmountBE puts the files of a mounted boot environment back into the
// store; the mount point stays, an empty directory (be_unmount does not
// remove the one be_mount made).
func (m *Machine) unmountBE(d *Dataset) error {
	if d.Mounted == "" {
		return nil
	}
	if d.RealFiles {
		return m.unmountRealBE(d)
	}
	src := m.HostPath(d.Mounted)
	dst := m.storePath(d.Name)
	os.RemoveAll(dst)
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	d.Mounted = ""
	return os.Mkdir(src, 0o755)
}

// unmountAll ends every boot environment mount: mounts do not survive the
// system that made them (a reboot, a power cut), so the next boot finds
// the boot environments' files in the store.
func (m *Machine) unmountAll(model *Model) error {
	for _, p := range model.Pools {
		for _, d := range p.Datasets {
			if err := m.unmountBE(d); err != nil {
				return fmt.Errorf("unmount %s: %w", d.Name, err)
			}
			// The next boot's rc.d/zfs mounts every canmount=on file
			// system again (zfs mount -va, libexec/rc/rc.d/zfs).
			d.Unmounted = false
		}
	}
	return nil
}

// mountedBelow lists the file systems mounted strictly below point: the
// devfs file systems, ESPs and boot environments.
func (inv *Invocation) mountedBelow(point string) []string {
	var out []string
	inside := func(p string) bool { return strings.HasPrefix(p, strings.TrimSuffix(point, "/")+"/") }
	r := inv.running()
	for _, dv := range r.Devfs {
		if inside(dv) {
			out = append(out, dv)
		}
	}
	for _, mt := range r.Mounts {
		if inside(mt.Point) {
			out = append(out, mt.Point)
		}
	}
	for _, p := range inv.model.Pools {
		for _, d := range p.Datasets {
			if d.Mounted != "" && inside(d.Mounted) {
				out = append(out, d.Mounted)
			}
		}
	}
	return out
}

// bectlUmount is bectl umount|unmount [-f] BE (bectl_cmd_unmount,
// be_access.c be_unmount): a boot environment that does not exist fails
// in zfs_open (BE_ERR_ZFSOPEN); one that is not mounted is left alone and
// the command succeeds; zfs_unmount failing with EBUSY is
// BE_ERR_PATHBUSY: the running boot environment (mounted at /), and one
// with a file system still mounted inside it, such as devfs at
// MOUNT/dev (beinstall.sh's unmount_be unmounts those first, in reverse
// order). Open files are not modelled, so -f changes nothing here.
func bectlUmount(inv *Invocation, p *Pool, cmd string, args []string) int {
	_, rest, err := getopt(args, "f")
	if err != nil {
		inv.errf("bectl %s: unknown option '%s'\n", cmd, strings.TrimPrefix(err.Error(), "option "))
		return inv.bectlUsage()
	}
	if len(rest) != 1 {
		inv.errf("bectl %s: wrong number of arguments\n", cmd)
		return inv.bectlUsage()
	}
	name := rest[0]
	failed := func(err int) int {
		inv.beFail(err)
		inv.errf("Failed to unmount bootenv %s\n", name)
		return err
	}
	_, d := inv.model.dataset(beRoot(p) + "/" + name)
	if d == nil {
		return failed(beErrZFSOpen)
	}
	if d.Name == inv.running().BE {
		return failed(beErrPathBusy)
	}
	if d.Mounted == "" {
		return 0
	}
	if len(inv.mountedBelow(d.Mounted)) > 0 {
		return failed(beErrPathBusy)
	}
	if err := inv.m.unmountBE(d); err != nil {
		inv.errf("simhost: bectl: %v\n", err)
		return failed(beErrIO)
	}
	return 0
}

// mountDevfs is mount -t devfs devfs POINT (sbin/mount/mount.c hands -t
// devfs to nmount(2) with fstype devfs): a devfs of its own at POINT,
// which must be a directory. Other mount forms are not simulated (ok is
// false: cmdMount answers them).
func mountDevfs(inv *Invocation) (code int, ok bool) {
	args := inv.Args
	if len(args) != 4 || args[0] != "-t" || args[1] != "devfs" {
		return 0, false
	}
	v := inv.resolve(args[3])
	if exists, dir := inv.stat(v); !exists || !dir || v.isFAT() || v.dev {
		if !exists {
			inv.errf("mount: %s: No such file or directory\n", args[3])
		} else {
			inv.errf("mount: %s: Not a directory\n", args[3])
		}
		return 1, true
	}
	r := inv.running()
	r.Devfs = append(r.Devfs, v.mpath)
	return 0, true
}

// umountStaged unmounts a devfs mounted with mount -t devfs, or a boot
// environment by its mount point (unmount(2) of the ZFS file system, as
// umount(8) does for any mount point), reporting whether mpath was one of
// them. Something still mounted below it is EBUSY: "umount: unmount of
// POINT failed: Device busy" (sbin/umount/umount.c umountfs).
func (inv *Invocation) umountStaged(arg, mpath string) (code int, ok bool) {
	r := inv.running()
	busy := func() (int, bool) {
		inv.errf("umount: unmount of %s failed: Device busy\n", mpath)
		return 1, true
	}
	for i := len(r.Devfs) - 1; i >= 0; i-- {
		if r.Devfs[i] == mpath {
			if len(inv.mountedBelow(mpath)) > 0 {
				return busy()
			}
			r.Devfs = append(r.Devfs[:i], r.Devfs[i+1:]...)
			return 0, true
		}
	}
	for _, p := range inv.model.Pools {
		for _, d := range p.Datasets {
			if d.Mounted == "" || d.Mounted != mpath {
				continue
			}
			if len(inv.mountedBelow(mpath)) > 0 {
				return busy()
			}
			if err := inv.m.unmountBE(d); err != nil {
				inv.errf("umount: %s: %v\n", arg, err)
				return 1, true
			}
			return 0, true
		}
	}
	return 0, false
}

// stagedMounts are the mount(8) lines of the boot environments and devfs
// file systems mounted besides the running system's.
func (inv *Invocation) stagedMounts() []mountEntry {
	var out []mountEntry
	for _, p := range inv.model.Pools {
		for _, d := range p.Datasets {
			if d.Mounted != "" {
				out = append(out, mountEntry{d.Name, d.Mounted, "zfs", "rw,noatime,nfsv4acls"})
			}
		}
	}
	for _, dv := range inv.running().Devfs {
		out = append(out, mountEntry{"devfs", dv, "devfs", "rw,multilabel"})
	}
	return out
}

// devfsAt reports whether a devfs is mounted at the dev directory of the
// tree rooted at root (a machine path).
func (inv *Invocation) devfsAt(root string) bool {
	want := path.Join(root, "dev")
	for _, dv := range inv.running().Devfs {
		if dv == want {
			return true
		}
	}
	return false
}

// pkgRoot is where pkg(8) works (freebsd/pkg src/main.c, main): -c
// CHROOT chroot(2)s before anything else ("chroot failed" when it
// cannot), -r ROOTDIR makes it a relocated installation there
// (realpath(3) of it: "Invalid rootdir"; pkg_set_rootdir); the two, or
// either with -j, are refused together. Either way the package database,
// the files installed, and the ABI (libpkg pkg_abi.c pkg_abi_from_file
// reads ROOTDIR/usr/bin/uname first) are those of that tree. The returned
// invocation sees the tree as its machine root; g's directories become
// machine paths.
func (inv *Invocation) pkgRoot(g *pkgGlobal) (*Invocation, int, bool) {
	if g.rootdir != "" && g.chroot != "" {
		inv.errf("-j, -c and/or -r cannot be used at the same time!\n")
		inv.errf("Usage: pkg [-v] [-d] [-l] [-N] [-j <jail name or id>|-c <chroot path>|-r <rootdir>] [-C <configuration file>] [-R <repo config dir>] [-o var=value] [-4|-6] <command> [<args>]\n")
		return inv, 1, false
	}
	dir, what := g.rootdir, "Invalid rootdir"
	if g.chroot != "" {
		dir, what = g.chroot, "chroot failed"
	}
	if dir == "" {
		return inv, 0, true
	}
	v := inv.resolve(dir)
	if exists, isDir := inv.stat(v); !exists || !isDir || v.isFAT() || v.dev {
		msg := "No such file or directory"
		if exists {
			msg = "Not a directory"
		}
		inv.errf("%s: %s: %s\n", inv.Name, what, msg)
		return inv, 1, false
	}
	if g.chroot != "" {
		g.chroot = v.mpath
	} else {
		g.rootdir = v.mpath
	}
	sub := *inv
	sub.m = &Machine{Root: v.real}
	return &sub, 0, true
}

// runPostInstall runs a package's POST-INSTALL script as libpkg does
// (libpkg scripts.c pkg_script_run): pkg spawns /bin/sh -c with it, so
// under -c inside CHROOT (src/main.c chroots first), under -r on the host
// with PKG_ROOTDIR set. pkg itself opened /dev/null before the chroot
// (src/main.c pkg_open_devnull), so it runs without devfs; the script
// does not: the device it reads is CHROOT/dev's, and that directory is
// empty unless devfs is mounted there (sh: "cannot open ...", bin/sh
// redir.c). A failed POST-INSTALL script is reported (scripts.c
// pkg_script_run_child: "POST-INSTALL script failed") and the package
// stays installed (libpkg pkg_add.c ignores the failure).
func (inv *Invocation) runPostInstall(g pkgGlobal, p *Package) {
	if p.PostInstallOpens == "" || g.chroot == "" || inv.devfsAt(g.chroot) {
		return
	}
	inv.errf("/bin/sh: cannot open %s: No such file or directory\n", p.PostInstallOpens)
	inv.errf("%s: POST-INSTALL script failed\n", inv.Name)
}

// panicsIn reports whether BootOptions.PanicIn names boot environment be.
func panicsIn(opts BootOptions, p *Pool, be string) bool {
	return opts.PanicIn != "" && (opts.PanicIn == be || beRoot(p)+"/"+opts.PanicIn == be)
}

// panicReboot is a kernel panic during the boot: with the default
// kern.panic_reboot_wait_time the kernel says "Automatic reboot in 15
// seconds" and resets the machine (sys/kern/kern_shutdown.c
// shutdown_panic, shutdown_reset), which boots again: the boot code picks
// the pool's bootfs, since the one-time activation was consumed. A kernel
// that panics at every boot leaves the machine rebooting over and over;
// the simulation stops after the second panic.
func (m *Machine) panicReboot(model *Model, opts BootOptions, rep *BootReport) (*BootReport, error) {
	rep.say("panic: simulated panic in the kernel of %s", rep.BE)
	rep.say("Automatic reboot in 15 seconds - press a key on the console to abort")
	rep.say("Rebooting...")
	if opts.panics > 0 {
		return rep.fail("halted", "the kernel panics at every boot; the machine reboots over and over"), nil
	}
	model.Clock = model.Clock.Add(15 * time.Second)
	opts.panics++
	next, err := m.boot(model, opts)
	if err != nil || next == nil {
		return next, err
	}
	next.Console = append(rep.Console, next.Console...)
	return next, nil
}

// makeMountpoints gives every file system that mounts at boot outside the
// boot environment (the pool's root dataset at /zroot, /var/log, /tmp,
// ...) its directory: rc.d/zfs runs zfs mount -a, and libzfs creates a
// mount point that does not exist (lib/libzfs/libzfs_mount.c
// zfs_mount_at, mkdirp). Their files stay when the boot environment
// changes, so both boot environments of a staged upgrade see them.
func (m *Machine) makeMountpoints(model *Model) error {
	for _, x := range beExcluded(model) {
		if x == "/"+stateDirName {
			continue
		}
		if err := os.MkdirAll(m.HostPath(x), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// snapshotMounted stores the files of a mounted boot environment, which
// are at its mount point, under a snapshot name.
func (m *Machine) snapshotMounted(d *Dataset, snap string) error {
	dst := m.storePath(snap)
	os.RemoveAll(dst)
	return copyTree(m.HostPath(d.Mounted), dst, nil)
}
