// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"slices"
	"strings"
)

// beSupported reports whether the running system uses boot environments
// (what bectl check tests): root on a dataset below POOL/ROOT.
func (inv *Invocation) beSupported() (*Pool, bool) {
	if inv.model.Behavior.Jailed {
		return nil, false
	}
	p, d := inv.model.dataset(inv.running().BE)
	if d == nil {
		return nil, false
	}
	return p, strings.HasPrefix(d.Name, beRoot(p)+"/")
}

func cmdBectl(inv *Invocation) int {
	args := inv.Args
	if len(args) >= 2 && args[0] == "-r" {
		return inv.unsupported("bectl -r beroot")
	}
	if len(args) == 0 {
		inv.errf("missing command\nusage:  bectl {-h | ? | subcommand [args...]}\n")
		return 1
	}
	sub, args := args[0], args[1:]
	p, ok := inv.beSupported()
	if sub == "check" {
		if len(args) > 0 {
			inv.errf("bectl check: wrong number of arguments\n")
			return 1
		}
		if !ok {
			return 1
		}
		return 0
	}
	if !ok {
		inv.errf("libbe_init(\"\") failed.\n")
		return 1
	}
	switch sub {
	case "list":
		return bectlList(inv, p, args)
	case "create":
		return bectlCreate(inv, p, args)
	case "activate":
		return bectlActivate(inv, p, args)
	case "destroy":
		return bectlDestroy(inv, p, args)
	case "mount":
		return bectlMount(inv, p, args)
	case "umount", "unmount":
		return bectlUmount(inv, p, sub, args)
	}
	return inv.unsupported("bectl " + sub)
}

func bectlList(inv *Invocation, p *Pool, args []string) int {
	opts, rest, err := getopt(args, "H")
	if err != nil || len(rest) > 0 {
		if err == nil {
			err = fmt.Errorf("arguments %v", rest)
		}
		return inv.unsupported("bectl list " + err.Error())
	}
	var rows [][]string
	next := inv.nextBoot(p)
	for _, d := range p.bootEnvironments() {
		name := strings.TrimPrefix(d.Name, beRoot(p)+"/")
		active := ""
		if d.Name == inv.running().BE {
			active += "N"
		}
		if d.Name == p.Bootfs {
			active += "R"
		}
		if d.Name == next {
			active += "T"
		}
		if active == "" {
			active = "-"
		}
		// The Mountpoint column is the "mounted" property
		// (sbin/bectl/bectl_list.c print_info): / for the running one,
		// where bectl mount put another.
		mnt := "-"
		if d.Name == inv.running().BE {
			mnt = "/"
		} else if d.Mounted != "" {
			mnt = d.Mounted
		}
		rows = append(rows, []string{name, active, mnt, nicenum(d.Used), beTime(d.Created)})
	}
	inv.out("%s", formatTable([]string{"BE", "Active", "Mountpoint", "Space", "Created"}, rows, has(opts, 'H'), " "))
	return 0
}

// createBE clones the running boot environment (recursively when
// recursive) into a new boot environment called name.
func (inv *Invocation) createBE(p *Pool, name string) error {
	target := beRoot(p) + "/" + name
	if _, d := inv.model.dataset(target); d != nil {
		return fmt.Errorf("failed to create bootenv %s", name)
	}
	src := inv.running().BE
	snap := inv.model.Clock.UTC().Format("2006-01-02-15:04:05") + "-0"
	if err := inv.pools().Snapshot(src, snap, true); err != nil {
		return err
	}
	if err := inv.pools().Clone(src+"@"+snap, target); err != nil {
		return err
	}
	_, d := inv.model.dataset(target)
	d.Canmount = "noauto"
	return nil
}

func bectlCreate(inv *Invocation, p *Pool, args []string) int {
	opts, rest, err := getopt(args, "re:")
	if err != nil {
		return inv.unsupported("bectl create " + err.Error())
	}
	if has(opts, 'e') {
		return inv.unsupported("bectl create -e")
	}
	if len(rest) != 1 {
		inv.errf("bectl create: wrong number of arguments\n")
		return 1
	}
	if strings.Contains(rest[0], "@") {
		return inv.unsupported("bectl create NAME@SNAPSHOT")
	}
	// lib/libbe/be.c be_create_depth: a name that is taken is
	// BE_ERR_EXISTS; bectl_cmd_create adds "Failed to create bootenv".
	if _, d := inv.model.dataset(beRoot(p) + "/" + rest[0]); d != nil {
		inv.beFail(beErrExists)
		inv.errf("Failed to create bootenv %s\n", rest[0])
		return beErrExists
	}
	if err := inv.createBE(p, rest[0]); err != nil {
		inv.errf("%v\n", err)
		return 1
	}
	return 0
}

// bectlActivate is bectl activate [-t] BE and activate -T
// (sbin/bectl/bectl.c bectl_cmd_activate, lib/libbe/be.c be_activate,
// be_deactivate). -t: the pool label's bootenv area gets
// freebsd:bootonce = zfs:BE: (be_activate with temporary:
// libzfsbootenv lzbe_set_boot_device), which the boot code consumes at
// the next boot (see boot.go); the bootfs stays. -T: be_deactivate with
// temporary, lzbe_set_boot_device with no device, removes it (and
// succeeds when there was none); bectl prints "Temporary activation
// removed", or "Failed to remove temporary activation" and exits with
// its error. Permanent: be_activate sets the pool's bootfs
// (zpool_set_prop) and promotes the boot environment when it is a
// clone; it does not touch the bootenv area, so a pending one-time
// activation stays and still decides the next boot. -t and -T together
// are a usage error; -T needs no name. A boot environment that does not
// exist is BE_ERR_NOENT: libbe's description on standard error, "Did
// not successfully activate boot environment NAME[ for next boot]" on
// standard output.
func bectlActivate(inv *Invocation, p *Pool, args []string) int {
	opts, rest, err := getopt(args, "tT")
	if err != nil {
		inv.errf("bectl activate: unknown option '%s'\n", strings.TrimPrefix(err.Error(), "option "))
		return inv.bectlUsage()
	}
	temp, reset := has(opts, 't'), has(opts, 'T')
	if temp && reset {
		return inv.bectlUsage()
	}
	if len(rest) != 1 && (!reset || len(rest) != 0) {
		inv.errf("bectl activate: wrong number of arguments\n")
		return inv.bectlUsage()
	}
	if reset {
		if err := inv.pools().SetNextBoot(p.Name, ""); err != nil {
			inv.errf("%v\n", err)
			inv.out("Failed to remove temporary activation\n")
			return 1
		}
		inv.out("Temporary activation removed\n")
		return 0
	}
	suffix := ""
	if temp {
		suffix = " for next boot"
	}
	target := beRoot(p) + "/" + rest[0]
	if _, d := inv.model.dataset(target); d == nil || strings.Contains(rest[0], "/") {
		inv.beFail(beErrNoent)
		inv.out("Did not successfully activate boot environment %s%s\n", rest[0], suffix)
		return beErrNoent
	}
	set := inv.pools().SetBootfs
	if temp {
		set = inv.pools().SetNextBoot
	}
	if err := set(p.Name, target); err != nil {
		inv.errf("%v\n", err)
		inv.out("Did not successfully activate boot environment %s%s\n", rest[0], suffix)
		return 1
	}
	// be_activate (lib/libbe/be.c) promotes a boot environment that is a
	// clone (zfs_promote), so that the one it was cloned from can be
	// destroyed later; a one-time activation (-t) does not.
	if !temp {
		if _, d := inv.model.dataset(target); d.Origin != "" {
			if err := inv.pools().Promote(target); err != nil {
				inv.errf("%v\n", err)
				inv.out("Did not successfully activate boot environment %s\n", rest[0])
				return 1
			}
		}
	}
	inv.out("Successfully activated boot environment %s%s\n", rest[0], suffix)
	return 0
}

// bectlDestroy is bectl destroy [-Fo] BE (sbin/bectl/bectl.c
// bectl_cmd_destroy, lib/libbe/be.c be_destroy). bectl exits with libbe's
// error number after set_error printed its description: a boot
// environment that does not exist is BE_ERR_NOENT; the running one and
// the pool's bootfs are BE_ERR_DESTROYACT; a mounted one
// BE_ERR_DESTROYMNT unless -F; one whose snapshots have clones fails in
// zfs_destroy (be_destroy_cb), which be_destroy reports as BE_ERR_UNKNOWN.
// Without -o bectl asks for BE_DESTROY_AUTOORIGIN: the origin snapshot
// goes too when its name is one be_snapshot made (be_is_auto_snapshot_name:
// %F-%T-SERIAL), else bectl says it leaves it; be_destroy_cb ignores an
// origin snapshot that cannot go (it has other clones).
func bectlDestroy(inv *Invocation, p *Pool, args []string) int {
	opts, rest, err := getopt(args, "Fo")
	if err != nil {
		return inv.unsupported("bectl destroy " + err.Error())
	}
	if len(rest) != 1 {
		inv.errf("bectl destroy: wrong number of arguments\n")
		return inv.bectlUsage()
	}
	if strings.Contains(rest[0], "@") {
		return inv.unsupported("bectl destroy NAME@SNAPSHOT")
	}
	if has(opts, 'o') {
		return inv.unsupported("bectl destroy -o")
	}
	target := beRoot(p) + "/" + rest[0]
	_, d := inv.model.dataset(target)
	if d == nil || strings.Contains(rest[0], "/") {
		return inv.beFail(beErrNoent)
	}
	if target == inv.running().BE || target == p.Bootfs {
		return inv.beFail(beErrDestroyAct)
	}
	origin := d.Origin
	if origin != "" && !autoSnapshotName(origin) {
		inv.errf("bectl destroy: leaving origin '%s' intact\n", origin)
	}
	// A mounted boot environment is BE_ERR_DESTROYMNT unless -F, which
	// unmounts it first; the destroy then fails the same way while a
	// file system is still mounted inside it (EBUSY).
	if d.Mounted != "" {
		if !has(opts, 'F') || len(inv.mountedBelow(d.Mounted)) > 0 {
			return inv.beFail(beErrDestroyMnt)
		}
		if err := inv.m.unmountBE(d); err != nil {
			inv.errf("simhost: bectl: %v\n", err)
			return inv.beFail(beErrDestroyMnt)
		}
	}
	if hasClones(p, d) {
		return inv.beFail(beErrUnknown)
	}
	if err := inv.pools().Destroy(target); err != nil {
		inv.errf("%v\n", err)
		return inv.beFail(beErrUnknown)
	}
	if origin != "" && autoSnapshotName(origin) {
		src, snap, _ := strings.Cut(origin, "@")
		if _, od := inv.model.dataset(src); od != nil && !snapshotCloned(p, origin) {
			od.Snapshots = slices.DeleteFunc(od.Snapshots, func(s Snapshot) bool { return s.Name == snap })
			removeStoredSnapshot(inv.m, origin)
		}
	}
	return 0
}

// autoSnapshotName reports whether the snapshot part of name is one
// be_snapshot makes ("%F-%T" and a serial: 2026-12-01-14:30:00-0), as
// lib/libbe/be.c be_is_auto_snapshot_name reads it.
func autoSnapshotName(name string) bool {
	_, snap, ok := strings.Cut(name, "@")
	if !ok {
		snap = name
	}
	var y, mo, d, h, mi, sec, serial int
	n, _ := fmt.Sscanf(snap, "%d-%d-%d-%d:%d:%d-%d", &y, &mo, &d, &h, &mi, &sec, &serial)
	return n == 7
}

// hasClones reports whether a snapshot of d is the origin of another
// dataset (zfs_destroy refuses d then).
func hasClones(p *Pool, d *Dataset) bool {
	for _, x := range p.Datasets {
		if strings.HasPrefix(x.Origin, d.Name+"@") {
			return true
		}
	}
	return false
}

// snapshotCloned reports whether the snapshot is the origin of a dataset.
func snapshotCloned(p *Pool, snapshot string) bool {
	for _, x := range p.Datasets {
		if x.Origin == snapshot {
			return true
		}
	}
	return false
}
