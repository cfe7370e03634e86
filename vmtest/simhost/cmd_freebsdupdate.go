package simhost

import (
	"os"
	"path"
)

// bdHash is sha256("/\n"), the name freebsd-update gives the pending
// state of the base directory /.
const bdHash = "f465c3739385890c221dff1a05e578c6cae0d0430e46996d319db7439f884336"

// fuOptions are freebsd-update's command-line options.
type fuOptions struct {
	workdir      string
	basedir      string
	release      string
	notCron      bool
	force        bool
	currentlyRun string
	cmds         []string
}

// parseFUOptions reads freebsd-update's options, which may come before or
// after the commands.
func parseFUOptions(inv *Invocation) (fuOptions, int, bool) {
	o := fuOptions{workdir: "/var/db/freebsd-update", basedir: "/"}
	args := inv.Args
	for i := 0; i < len(args); i++ {
		a := args[i]
		needValue := func() (string, bool) {
			if i+1 >= len(args) {
				inv.errf("freebsd-update: option %s requires an argument\n", a)
				return "", false
			}
			i++
			return args[i], true
		}
		var ok bool
		switch a {
		case "--not-running-from-cron":
			o.notCron = true
		case "-F":
			o.force = true
		case "-d":
			if o.workdir, ok = needValue(); !ok {
				return o, 1, false
			}
		case "-b":
			if o.basedir, ok = needValue(); !ok {
				return o, 1, false
			}
		case "-r":
			if o.release, ok = needValue(); !ok {
				return o, 1, false
			}
		case "--currently-running":
			if o.currentlyRun, ok = needValue(); !ok {
				return o, 1, false
			}
		case "-f", "-j", "-k", "-s", "-t":
			return o, inv.unsupported("option " + a), false
		case "fetch", "cron", "upgrade", "install", "rollback", "IDS", "updatesready", "showconfig":
			o.cmds = append(o.cmds, a)
		default:
			inv.errf("usage: freebsd-update [options] command ...\n")
			return o, 1, false
		}
	}
	if len(o.cmds) == 0 {
		inv.errf("usage: freebsd-update [options] command ...\n")
		return o, 1, false
	}
	if o.basedir != "/" {
		return o, inv.unsupported("-b basedir other than /"), false
	}
	return o, 0, true
}

// pendingDir is the machine path of the pending-install link.
func (o fuOptions) pendingDir() string { return path.Join(o.workdir, bdHash+"-install") }

// pending reports whether an install is pending (the -install link exists).
func (inv *Invocation) pending(o fuOptions) bool {
	st, err := os.Lstat(inv.m.HostPath(o.pendingDir()))
	return err == nil && st.Mode()&os.ModeSymlink != 0
}

func cmdFreebsdUpdate(inv *Invocation) int {
	o, code, ok := parseFUOptions(inv)
	if !ok {
		return code
	}
	for _, c := range o.cmds {
		var code int
		switch c {
		case "updatesready":
			code = fuUpdatesReady(inv, o)
		default:
			code = freebsdUpdateCommand(inv, o, c)
		}
		if code != 0 {
			return code
		}
	}
	return 0
}

func fuUpdatesReady(inv *Invocation, o fuOptions) int {
	if !inv.pending(o) {
		inv.out("No updates are available to install.\n")
		return 2
	}
	inv.out("There are updates available to install.\nRun 'freebsd-update [options] install' to proceed.\n")
	return 0
}

// freebsdUpdateCommand runs fetch, upgrade, install and rollback
// (cmd_freebsdupdate_install.go replaces it).
var freebsdUpdateCommand = func(inv *Invocation, o fuOptions, c string) int {
	return inv.unsupported("freebsd-update " + c)
}
