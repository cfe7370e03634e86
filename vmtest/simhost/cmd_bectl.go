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
		mnt := "-"
		if d.Name == inv.running().BE {
			mnt = "/"
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
	if err := inv.createBE(p, rest[0]); err != nil {
		inv.errf("%v\n", err)
		return 1
	}
	return 0
}

func bectlActivate(inv *Invocation, p *Pool, args []string) int {
	opts, rest, err := getopt(args, "tT")
	if err != nil {
		return inv.unsupported("bectl activate " + err.Error())
	}
	if len(rest) != 1 {
		inv.errf("bectl activate: wrong number of arguments\n")
		return 1
	}
	target := beRoot(p) + "/" + rest[0]
	if _, d := inv.model.dataset(target); d == nil {
		inv.errf("failed to activate %s\n", rest[0])
		return 1
	}
	switch {
	case has(opts, 'T'):
		p.NextBoot = ""
		inv.out("Successfully removed temporary boot environment activation\n")
	case has(opts, 't'):
		inv.pools().SetNextBoot(p.Name, target)
		inv.out("Successfully activated boot environment %s for next boot\n", rest[0])
	default:
		inv.pools().SetBootfs(p.Name, target)
		inv.out("Successfully activated boot environment %s\n", rest[0])
	}
	return 0
}

func bectlDestroy(inv *Invocation, p *Pool, args []string) int {
	_, rest, err := getopt(args, "Fo")
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
	if err := inv.pools().Destroy(target); err != nil {
		inv.errf("%v\n", err)
		return 1
	}
	return 0
}
