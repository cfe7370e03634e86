// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
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
	for _, d := range p.bootEnvironments() {
		name := strings.TrimPrefix(d.Name, beRoot(p)+"/")
		active := ""
		if d.Name == inv.running().BE {
			active += "N"
		}
		if d.Name == p.Bootfs {
			active += "R"
		}
		if d.Name == p.NextBoot {
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
// be_deactivate). Permanent: the pool's bootfs. -t: the pool label's
// bootenv area gets freebsd:bootonce = zfs:BE: (libzfsbootenv
// lzbe_set_boot_device), which the boot code consumes at the next boot
// (see boot.go); -T removes it. -t and -T together are a usage error; -T
// needs no name. A boot environment that does not exist is BE_ERR_NOENT:
// libbe's description on standard error, "Did not successfully activate
// boot environment NAME[ for next boot]" on standard output.
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
		p.NextBoot = ""
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
	inv.out("Successfully activated boot environment %s%s\n", rest[0], suffix)
	return 0
}

func bectlDestroy(inv *Invocation, p *Pool, args []string) int {
	opts, rest, err := getopt(args, "Fo")
	if err != nil {
		return inv.unsupported("bectl destroy " + err.Error())
	}
	if len(rest) != 1 {
		inv.errf("bectl destroy: wrong number of arguments\n")
		return 1
	}
	if strings.Contains(rest[0], "@") {
		return inv.unsupported("bectl destroy NAME@SNAPSHOT")
	}
	target := beRoot(p) + "/" + rest[0]
	if _, d := inv.model.dataset(target); d == nil {
		inv.errf("unknown boot environment %s\n", rest[0])
		return 1
	}
	if target == inv.running().BE || target == p.Bootfs {
		inv.errf("cannot destroy active boot environment\n")
		return 1
	}
	// lib/libbe/be.c be_destroy: a mounted boot environment is
	// BE_ERR_DESTROYMNT unless -F, which unmounts it first; the destroy
	// then fails the same way while a file system is still mounted inside
	// it (EBUSY).
	if _, d := inv.model.dataset(target); d.Mounted != "" {
		if !has(opts, 'F') || len(inv.mountedBelow(d.Mounted)) > 0 {
			return inv.beFail(beErrDestroyMnt)
		}
		if err := inv.m.unmountBE(d); err != nil {
			inv.errf("simhost: bectl: %v\n", err)
			return inv.beFail(beErrDestroyMnt)
		}
	}
	if err := inv.pools().Destroy(target); err != nil {
		inv.errf("%v\n", err)
		return 1
	}
	return 0
}
