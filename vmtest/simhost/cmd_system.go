// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// programRelease reads the release a program or file of the tree was
// installed from ("# simhost program NAME from RELEASE", or a boot blob).
func (inv *Invocation) programRelease(p string) (Release, bool) {
	return inv.m.programRelease(p)
}

// programRelease reads the release a program or file of the machine's tree
// was installed from ("# simhost program NAME from RELEASE", or a boot blob).
func (m *Machine) programRelease(p string) (Release, bool) {
	data, err := os.ReadFile(m.HostPath(p))
	if err != nil {
		return Release{}, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "USERLAND_VERSION=\""); ok {
			if r, err := ParseRelease(strings.TrimSuffix(rest, "\"")); err == nil {
				return r, true
			}
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == "#" && f[1] == "simhost" && f[2] == "program" && f[4] == "from" && len(f) >= 6 {
			if r, err := ParseRelease(f[5]); err == nil {
				return r, true
			}
		}
	}
	if b, ok := parseBlob(data); ok {
		return b.Release, true
	}
	return Release{}, false
}

// installedKernel is the release of /boot/kernel/kernel.
func (inv *Invocation) installedKernel() (Release, bool) {
	return inv.programRelease("/boot/kernel/kernel")
}

// userland is the release of the installed userland as freebsd-version
// -u reports it, or from uname itself where freebsd-version does not exist.
func (inv *Invocation) userland() Release { return inv.m.userland() }

// userland is the release of the machine's installed userland (see
// Invocation.userland).
func (m *Machine) userland() Release {
	if r, ok := m.programRelease("/bin/freebsd-version"); ok {
		return r
	}
	r, _ := m.programRelease("/usr/bin/uname")
	return r
}

// runningKernel is the release of the running kernel.
func (inv *Invocation) runningKernel() Release {
	r, _ := ParseRelease(inv.running().Kernel)
	return r
}

// kernelIdent is the running kernel's configuration name (uname -i).
func (inv *Invocation) kernelIdent() string {
	if id := inv.running().Ident; id != "" {
		return id
	}
	return GenericKernel
}

// cmdUname is uname(1).
func cmdUname(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "amnprsvioKU")
	if err != nil || len(args) > 0 {
		return inv.unsupported("uname with these arguments")
	}
	set := map[byte]bool{}
	for _, o := range opts {
		set[o.flag] = true
	}
	if set['a'] {
		set['m'], set['n'], set['r'], set['s'], set['v'] = true, true, true, true, true
	}
	if len(set) == 0 {
		set['s'] = true
	}
	k := inv.runningKernel()
	var out []string
	for _, f := range "snrvmpioKU" {
		if !set[byte(f)] {
			continue
		}
		switch f {
		case 's', 'o':
			out = append(out, "FreeBSD")
		case 'n':
			out = append(out, inv.model.Hostname)
		case 'r':
			out = append(out, k.String())
		case 'v':
			out = append(out, fmt.Sprintf("FreeBSD %s releng/%d.%d-n0-simulated %s", k, k.Major, k.Minor, inv.kernelIdent()))
		case 'm':
			out = append(out, inv.model.Arch)
		case 'p':
			p := inv.model.Arch
			if p == "arm64" {
				p = "aarch64"
			}
			out = append(out, p)
		case 'i':
			out = append(out, inv.kernelIdent())
		case 'K':
			out = append(out, fmt.Sprint(k.OSRelDate()))
		case 'U':
			out = append(out, fmt.Sprint(inv.userland().OSRelDate()))
		}
	}
	inv.out("%s\n", strings.Join(out, " "))
	return 0
}

// cmdFreebsdVersion is freebsd-version(1): -k installed kernel, -r
// running kernel, -u userland, always printed in that order.
func cmdFreebsdVersion(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "kru")
	if err != nil {
		inv.errf("usage: freebsd-version [-kru] [-j jail]\n")
		return 1
	}
	if len(args) > 0 {
		inv.errf("usage: freebsd-version [-kru] [-j jail]\n")
		return 1
	}
	if len(opts) == 0 {
		opts = []opt{{'u', ""}}
	}
	if has(opts, 'k') {
		r, ok := inv.installedKernel()
		if !ok {
			inv.errf("freebsd-version: unable to locate kernel\n")
			return 1
		}
		inv.out("%s\n", r)
	}
	if has(opts, 'r') {
		inv.out("%s\n", inv.runningKernel())
	}
	if has(opts, 'u') {
		inv.out("%s\n", inv.userland())
	}
	return 0
}

// cmdSysctl is sysctl(8) for the oids the simulated host models.
func cmdSysctl(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "niqe")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) == 0 {
		return inv.unsupported("listing all oids")
	}
	status := 0
	for _, name := range args {
		if strings.Contains(name, "=") {
			return inv.unsupported("setting " + name)
		}
		val, known, simulated := inv.sysctlValue(name)
		if !simulated {
			return inv.unsupported("oid " + name)
		}
		if !known {
			if !has(opts, 'i') {
				if !has(opts, 'q') {
					inv.errf("sysctl: unknown oid '%s'\n", name)
				}
				status = 1
			}
			continue
		}
		switch {
		case has(opts, 'n'):
			inv.out("%s\n", val)
		case has(opts, 'e'):
			inv.out("%s=%s\n", name, val)
		default:
			inv.out("%s: %s\n", name, val)
		}
	}
	return status
}

// sysctlValue answers one oid; known is false for oids the release does
// not have, simulated false for real oids the model does not cover.
func (inv *Invocation) sysctlValue(name string) (val string, known, simulated bool) {
	k := inv.runningKernel()
	switch name {
	case "machdep.bootmethod":
		if !k.Has(CapBootMethodSysctl) {
			return "", false, true
		}
		return inv.running().BootMethod, true, true
	case "security.jail.jailed":
		if inv.model.Behavior.Jailed {
			return "1", true, true
		}
		return "0", true, true
	case "kern.osreldate":
		return fmt.Sprint(k.OSRelDate()), true, true
	case "kern.osrelease":
		return k.String(), true, true
	case "kern.ostype":
		return "FreeBSD", true, true
	case "kern.hostname":
		return inv.model.Hostname, true, true
	case "hw.machine", "hw.machine_arch":
		if inv.model.Arch == "arm64" && name == "hw.machine_arch" {
			return "aarch64", true, true
		}
		return inv.model.Arch, true, true
	case "kern.securelevel":
		return "-1", true, true
	case "kern.bootfile":
		return "/boot/kernel/kernel", true, true
	case "kern.boottime":
		// As sysctl prints the timeval: "{ sec = N, usec = N } DATE".
		t := inv.running().Since
		return fmt.Sprintf("{ sec = %d, usec = %d } %s", t.Unix(), t.Nanosecond()/1000, t.UTC().Format("Mon Jan _2 15:04:05 2006")), true, true
	case "kern.disks":
		var names []string
		for i := len(inv.model.Disks) - 1; i >= 0; i-- {
			if !inv.model.Disks[i].Missing {
				names = append(names, inv.model.Disks[i].Name)
			}
		}
		return strings.Join(names, " "), true, true
	case "kern.geom.confxml", "kern.geom.conftxt", "kern.geom.confdot":
		return "", false, false
	}
	for _, prefix := range []string{"kern.", "vfs.", "hw.", "machdep.", "security.", "net.", "vm.", "debug.", "dev.", "user.", "p1003_1b."} {
		if strings.HasPrefix(name, prefix) {
			return "", false, true
		}
	}
	return "", false, true
}

// kenvValues are the loader variables of the running system.
func (inv *Invocation) kenvValues() map[string]string {
	r := inv.running()
	v := map[string]string{
		"vfs.root.mountfrom":    "zfs:" + r.BE,
		"currdev":               "zfs:" + r.BE + ":",
		"kernelname":            "/boot/kernel/kernel",
		"kernel":                "kernel",
		"zfs_be_active":         "zfs:" + r.BE + ":",
		"smbios.system.product": "Simulated FreeBSD host",
	}
	if p := inv.model.bootPool(); p != nil {
		v["zfs_be_root"] = beRoot(p)
	}
	return v
}

// cmdKenv is kenv(1) reading loader variables.
func cmdKenv(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "qhv")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	vals := inv.kenvValues()
	if len(args) == 0 {
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			inv.out("%s=\"%s\"\n", k, vals[k])
		}
		return 0
	}
	if len(args) > 1 || strings.Contains(args[0], "=") {
		return inv.unsupported("setting kernel environment variables")
	}
	v, ok := vals[args[0]]
	if !ok {
		if !has(opts, 'q') {
			inv.errf("kenv: unable to get %s\n", args[0])
		}
		return 1
	}
	inv.out("%s\n", v)
	return 0
}

// mountEntry is one mounted file system as mount(8) reports it.
type mountEntry struct {
	from, on, fstype, opts string
}

// mounts lists the mounted file systems in mount order.
func (inv *Invocation) mounts() []mountEntry {
	r := inv.running()
	out := []mountEntry{{r.BE, "/", "zfs", "rw,noatime,nfsv4acls"}, {"devfs", "/dev", "devfs", "rw,multilabel"}}
	for _, mt := range r.Mounts {
		out = append(out, mountEntry{mt.Device, mt.Point, "msdosfs", "rw"})
	}
	for _, p := range inv.model.Pools {
		for _, d := range p.Datasets {
			if d.Name == r.BE || d.Canmount != "on" || !strings.HasPrefix(d.Mountpoint, "/") || d.Mountpoint == "/" {
				continue
			}
			out = append(out, mountEntry{d.Name, d.Mountpoint, "zfs", "rw,noatime,nfsv4acls"})
		}
	}
	return append(out, inv.stagedMounts()...)
}

// fstabPass returns dump and pass numbers of a device in /etc/fstab.
func (inv *Invocation) fstabPass(dev, point string) (string, string) {
	data, err := os.ReadFile(inv.m.HostPath("/etc/fstab"))
	if err != nil {
		return "0", "0"
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && !strings.HasPrefix(f[0], "#") && (f[0] == dev || f[1] == point) {
			return f[4], f[5]
		}
	}
	return "0", "0"
}

// cmdMount is mount(8): no arguments or -p list; mounting is not simulated.
func cmdMount(inv *Invocation) int {
	if code, ok := mountDevfs(inv); ok {
		return code
	}
	opts, args, err := getopt(inv.Args, "p")
	if err != nil || len(args) > 0 {
		return inv.unsupported("mounting (use mount_msdosfs)")
	}
	for _, e := range inv.mounts() {
		if has(opts, 'p') {
			dump, pass := inv.fstabPass(e.from, e.on)
			inv.out("%s%s%s\t%s%s\t%s %s\n", padTabs(e.from), padTabs(e.on), e.fstype, e.opts, optPad(e.opts), dump, pass)
			continue
		}
		flags := "local, noatime, nfsv4acls"
		switch e.fstype {
		case "devfs":
			flags = "multilabel"
		case "msdosfs":
			flags = "local"
		}
		inv.out("%s on %s (%s, %s)\n", e.from, e.on, e.fstype, flags)
	}
	return 0
}

// padTabs follows a field with the tabs mount -p puts after it.
func padTabs(s string) string {
	l := len(s)
	pad := ""
	if l < 8 {
		pad += "\t"
	}
	if l < 16 {
		pad += "\t"
	}
	if l < 24 {
		pad += "\t"
	} else {
		pad += " "
	}
	return s + pad
}

func optPad(opts string) string {
	if len(opts) < 8 {
		return "\t"
	}
	return " "
}

// cmdMountMsdosfs is mount_msdosfs(8): mount an ESP of the model at a
// directory of the machine.
func cmdMountMsdosfs(inv *Invocation) int {
	_, args, err := getopt(inv.Args, "o:rL:D:u:g:m:M:")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) != 2 {
		inv.errf("usage: mount_msdosfs [-9ls] [-D DOS_codepage] [-g gid] [-L locale]\n\t[-M mask] [-m mask] [-o options] [-u uid]\n\t[-W table] special node\n")
		return 64
	}
	dev, node := inv.resolve(args[0]), inv.resolve(args[1])
	if !dev.dev || dev.disk == nil || dev.part == nil {
		inv.errf("mount_msdosfs: %s: No such file or directory\n", args[0])
		return 1
	}
	r := inv.running()
	// A device mounted already is open exclusively: GEOM refuses a second
	// open for writing (sys/geom/geom_vfs.c g_vfs_open), whatever the
	// mount point.
	for _, mt := range r.Mounts {
		if mt.Disk == dev.disk.Name && mt.Index == dev.part.Index {
			inv.errf("mount_msdosfs: %s: Device busy\n", args[0])
			return 1
		}
	}
	if exists, dir := inv.stat(node); !exists || !dir || node.isFAT() {
		inv.errf("mount_msdosfs: %s: No such file or directory\n", args[1])
		return 1
	}
	for _, mt := range r.Mounts {
		if mt.Point == node.mpath {
			inv.errf("mount_msdosfs: %s: Device busy\n", args[0])
			return 1
		}
	}
	var real string
	if devDir := inv.m.realDisks(); devDir != "" {
		// The real FAT driver decides whether the partition holds a
		// file system (sys/fs/msdosfs/msdosfs_vfsops.c mountmsdosfs:
		// EINVAL for a boot sector it does not accept).
		if real, err = inv.m.mountRealESP(devDir, dev.disk, dev.part, false); err != nil {
			if !strings.Contains(err.Error(), "Invalid argument") {
				inv.errf("simhost: mounting the real %s: %v\n", args[0], err)
				return 1
			}
			inv.errf("mount_msdosfs: %s: Invalid argument\n", args[0])
			return 1
		}
	} else if dev.part.FAT == nil {
		inv.errf("mount_msdosfs: %s: Invalid argument\n", args[0])
		return 1
	}
	r.Mounts = append(r.Mounts, Mount{Device: dev.mpath, Point: node.mpath, Disk: dev.disk.Name, Index: dev.part.Index, Real: real})
	return 0
}

// cmdUmount is umount(8) for mounted ESPs; it writes pending data first.
func cmdUmount(inv *Invocation) int {
	_, args, err := getopt(inv.Args, "f")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) == 0 {
		inv.errf("usage: umount [-fNnv] special ... | node ... | fsid ...\n")
		return 1
	}
	status := 0
	r := inv.running()
	for _, a := range args {
		v := inv.resolve(a)
		idx := -1
		for i, mt := range r.Mounts {
			if mt.Point == v.mpath || mt.Device == v.mpath {
				idx = i
			}
		}
		if idx < 0 {
			if code, ok := inv.umountStaged(a, v.mpath); ok {
				status |= code
				continue
			}
			for _, e := range inv.mounts() {
				if e.on == v.mpath || e.from == a {
					return inv.unsupported("unmounting " + e.fstype + " file systems")
				}
			}
			inv.errf("umount: %s: not a file system root directory\n", a)
			status = 1
			continue
		}
		mt := r.Mounts[idx]
		if part := inv.model.partition(mt.Disk, mt.Index); part != nil && part.FAT != nil {
			part.FAT.sync()
		}
		if mt.Real != "" {
			if err := runReal("umount", mt.Real); err != nil {
				inv.errf("umount: %s: %v\n", a, err)
				status = 1
				continue
			}
		}
		r.Mounts = append(r.Mounts[:idx], r.Mounts[idx+1:]...)
	}
	return status
}
