// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// rcConf is a parsed rc.conf-style file: assignments in order.
type rcConf struct {
	lines []string
}

func readRCConf(path string) (*rcConf, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	c := &rcConf{}
	if len(data) > 0 {
		c.lines = strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	}
	return c, nil
}

// parseAssignment reads NAME=VALUE or NAME="VALUE" from a line.
func parseAssignment(line string) (name, val string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", false
	}
	name, val, ok = strings.Cut(line, "=")
	if !ok || strings.ContainsAny(name, " \t") {
		return "", "", false
	}
	if i := strings.Index(val, " #"); i >= 0 && !strings.HasPrefix(val, "\"") {
		val = val[:i]
	}
	val = strings.TrimSpace(val)
	val = strings.Trim(val, "\"'")
	return name, val, true
}

func (c *rcConf) get(name string) (string, bool) {
	val, found := "", false
	for _, l := range c.lines {
		if n, v, ok := parseAssignment(l); ok && n == name {
			val, found = v, true
		}
	}
	return val, found
}

func (c *rcConf) set(name, val string) {
	line := fmt.Sprintf("%s=\"%s\"", name, val)
	for i, l := range c.lines {
		if n, _, ok := parseAssignment(l); ok && n == name {
			c.lines[i] = line
			return
		}
	}
	c.lines = append(c.lines, line)
}

func (c *rcConf) unset(name string) {
	var keep []string
	for _, l := range c.lines {
		if n, _, ok := parseAssignment(l); ok && n == name {
			continue
		}
		keep = append(keep, l)
	}
	c.lines = keep
}

func (c *rcConf) write(path string) error {
	data := strings.Join(c.lines, "\n")
	if data != "" {
		data += "\n"
	}
	return os.WriteFile(path, []byte(data), 0o644)
}

// cmdSysrc is sysrc(8) over /etc/rc.conf (or -f FILE).
func cmdSysrc(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "f:neixq")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	file := "/etc/rc.conf"
	if f, ok := value(opts, 'f'); ok {
		file = f
	}
	path := inv.resolve(file).real
	if path == "" {
		return inv.unsupported("sysrc on a file outside the root file system")
	}
	conf, err := readRCConf(path)
	if err != nil {
		inv.errf("sysrc: %s: %v\n", file, sysErr(err))
		return 1
	}
	if len(args) == 0 {
		inv.errf("Usage: sysrc [OPTIONS] {name[[+|-]=value] ... | -a | -A}\n")
		return 1
	}
	status := 0
	changed := false
	for _, a := range args {
		name, val, isSet := strings.Cut(a, "=")
		if strings.HasSuffix(name, "+") || strings.HasSuffix(name, "-") {
			return inv.unsupported("sysrc += and -=")
		}
		old, found := conf.get(name)
		switch {
		case !isSet && !found:
			// An unknown variable fails, -x included: a NAME without
			// "=" is looked up (f_sysrc_get "$NAME?") before -x
			// deletes it, and one set nowhere sets status=$FAILURE
			// (exit 1); -i and -q only silence the message
			// (usr.sbin/sysrc/sysrc, the argument loop). So sysrc -x
			// of a variable already removed fails.
			if !has(opts, 'i') && !has(opts, 'q') {
				inv.errf("sysrc: unknown variable '%s'\n", name)
			}
			status = 1
		case has(opts, 'x'):
			conf.unset(name)
			changed = true
		case isSet:
			conf.set(name, val)
			changed = true
			if !has(opts, 'q') {
				inv.out("%s: %s -> %s\n", name, old, val)
			}
		case has(opts, 'n'):
			inv.out("%s\n", old)
		case has(opts, 'e'):
			inv.out("%s=\"%s\"\n", name, old)
		default:
			inv.out("%s: %s\n", name, old)
		}
	}
	if changed {
		if err := conf.write(path); err != nil {
			inv.errf("sysrc: %s: %v\n", file, sysErr(err))
			return 1
		}
	}
	return status
}

// rcDirs are where rc.d scripts live, base first.
var rcDirs = []string{"/etc/rc.d", "/usr/local/etc/rc.d"}

// rcScript is an rc.d script found on the machine: its file name, machine
// path and real path, the name it gives load_rc_config (its name=
// variable) and its rcvar.
type rcScript struct {
	name, mpath, real string
	rcName, rcvar     string
}

// rcScripts lists the rc.d scripts installed, in rc order (base
// scripts, then local ones, each sorted by name).
func (m *Machine) rcScripts() []rcScript {
	var out []rcScript
	for _, dir := range rcDirs {
		ents, _ := os.ReadDir(m.HostPath(dir))
		var names []string
		for _, e := range ents {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			real := filepath.Join(m.HostPath(dir), n)
			rcName, rcvar := scriptNames(real, n)
			s := rcScript{name: n, mpath: dir + "/" + n, real: real, rcName: rcName, rcvar: rcvar}
			out = append(out, s)
		}
	}
	return out
}

// scriptNames reads name= and rcvar= from a script: the name defaults to
// the file name, the rcvar to NAME_enable.
func scriptNames(path, file string) (name, rcvar string) {
	name = file
	f, err := os.Open(path)
	if err != nil {
		return name, name + "_enable"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "name="); ok {
			name = strings.Trim(v, "\"'")
		}
		if v, ok := strings.CutPrefix(line, "rcvar="); ok {
			rcvar = strings.Trim(v, "\"'")
		}
	}
	rcvar = strings.ReplaceAll(rcvar, "${name}", name)
	rcvar = strings.ReplaceAll(rcvar, "$name", name)
	if rcvar == "" || strings.Contains(rcvar, "$") {
		rcvar = name + "_enable"
	}
	return name, rcvar
}

// rcConfFiles lists the machine paths of the files load_rc_config NAME
// reads, in its order (a later assignment wins): /etc/rc.conf,
// /etc/rc.conf.local, then /etc/rc.conf.d/NAME and, from 10.x,
// /usr/local/etc/rc.conf.d/NAME, each a file or (from 10.x) a directory
// whose files are read in name order. Only the files that exist are
// listed. local_startup is taken as its default, /usr/local/etc/rc.d.
func (m *Machine) rcConfFiles(name string) []string {
	var files []string
	for _, f := range []string{"/etc/rc.conf", "/etc/rc.conf.local"} {
		if st, err := os.Stat(m.HostPath(f)); err == nil && st.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	if name == "" {
		return files
	}
	local := m.userland().Has(CapLocalRCConfD)
	dirs := []string{"/etc"}
	if local {
		dirs = append(dirs, "/usr/local/etc")
	}
	for _, d := range dirs {
		p := d + "/rc.conf.d/" + name
		st, err := os.Stat(m.HostPath(p))
		switch {
		case err != nil:
		case st.Mode().IsRegular():
			files = append(files, p)
		case st.IsDir() && local:
			ents, _ := os.ReadDir(m.HostPath(p))
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				if st, err := os.Stat(m.HostPath(p + "/" + e.Name())); err == nil && st.Mode().IsRegular() {
					files = append(files, p+"/"+e.Name())
				}
			}
		}
	}
	return files
}

// rcValue is the value load_rc_config NAME leaves in variable, and the
// file that set it last; found is false when no file sets it.
func (m *Machine) rcValue(name, variable string) (val, file string, found bool) {
	for _, f := range m.rcConfFiles(name) {
		conf, err := readRCConf(m.HostPath(f))
		if err != nil {
			continue
		}
		if v, ok := conf.get(variable); ok {
			val, file, found = v, f, true
		}
	}
	return val, file, found
}

// enabled reports whether an rc.d script is enabled: its rcvar is YES
// once load_rc_config has read rc.conf and the script's rc.conf.d files.
func (m *Machine) enabled(s rcScript) bool {
	v, _, _ := m.rcValue(s.rcName, s.rcvar)
	return yes(v)
}

// rcCommand prepares an rc.d script to run under /bin/sh with rc's
// environment (rcEnv: PATH=/sbin:/bin:/usr/sbin:/usr/bin, mapped) and env:
// ". /etc/rc.subr" is pointed at the machine's rc.subr, the only rewrite
// made. The copy lives in ROOT/.simhost/run.
func (m *Machine) rcCommand(s rcScript, arg string, env []string) (*exec.Cmd, error) {
	data, err := os.ReadFile(s.real)
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(string(data), "/etc/rc.subr", m.HostPath("/etc/rc.subr"))
	dir := filepath.Join(m.stateDir(), "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	copyPath := filepath.Join(dir, s.name)
	if err := os.WriteFile(copyPath, []byte(text), 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command("/bin/sh", copyPath, arg)
	cmd.Env = append(m.rcEnv(), env...)
	cmd.Dir = m.Root
	return cmd, nil
}

// cmdService is service(8): -e lists enabled scripts; NAME ACTION runs one.
func cmdService(inv *Invocation) int {
	if len(inv.Args) == 1 && inv.Args[0] == "-e" {
		for _, s := range inv.m.rcScripts() {
			if inv.m.enabled(s) {
				inv.out("%s\n", s.mpath)
			}
		}
		return 0
	}
	if len(inv.Args) != 2 {
		if len(inv.Args) > 0 && strings.HasPrefix(inv.Args[0], "-") {
			return inv.unsupported("service " + inv.Args[0])
		}
		inv.errf("usage: service [-j <jail name or id>] -e\n       service [-j <jail name or id>] -R\n       service [-j <jail name or id>] [-v] -l | -r\n       service [-j <jail name or id>] [-v] <rc.d script> start|stop|etc.\n")
		return 1
	}
	name, action := inv.Args[0], inv.Args[1]
	var script *rcScript
	for _, s := range inv.m.rcScripts() {
		if s.name == name {
			s := s
			script = &s
		}
	}
	if script == nil {
		inv.errf("%s does not exist in /etc/rc.d or the local startup\ndirectories (/usr/local/etc/rc.d), or is not executable\n", name)
		return 1
	}
	switch action {
	case "enable", "disable":
		// The variable is written where it is set last (rc.conf.d
		// included, as sysrc -s does), else in /etc/rc.conf.
		_, file, found := inv.m.rcValue(script.rcName, script.rcvar)
		if !found {
			file = "/etc/rc.conf"
		}
		path := inv.m.HostPath(file)
		conf, err := readRCConf(path)
		if err != nil {
			inv.errf("service: %v\n", err)
			return 1
		}
		v := "YES"
		if action == "disable" {
			v = "NO"
		}
		conf.set(script.rcvar, v)
		if err := conf.write(path); err != nil {
			inv.errf("service: %v\n", err)
			return 1
		}
		inv.out("%s %sd in %s\n", script.rcName, action, file)
		return 0
	}
	cmd, err := inv.m.rcCommand(*script, action, nil)
	if err != nil {
		inv.errf("service: %v\n", err)
		return 1
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inv.Stdin, inv.Stdout, inv.Stderr
	inv.after = func() int {
		if err := inv.m.run(cmd); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode()
			}
			inv.errf("service: %v\n", err)
			return 1
		}
		return 0
	}
	return 0
}

// goDown marks the machine as going down (reboot) or off (halt): data
// is synced as the file systems are unmounted during shutdown.
func (inv *Invocation) goDown(reboot bool) {
	inv.model.syncAll()
	if reboot {
		inv.model.Power = PowerGoingDown
	} else {
		inv.model.Power = PowerOff
		inv.model.Running = nil
	}
	if inv.env(KillParentEnv) == "1" {
		inv.after = func() int {
			syscall.Kill(os.Getppid(), syscall.SIGTERM)
			return 0
		}
	}
}

// cmdShutdown is shutdown(8) with -r, -p or -h and "now".
func cmdShutdown(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "rphoc")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) == 0 {
		inv.errf("usage: shutdown [-] [-c | -f | -h | -p | -r | -k] [-o [-n]] [-q] time [warning-message ...]\n       poweroff\n")
		return 1
	}
	if args[0] != "now" && args[0] != "+0" {
		return inv.unsupported("shutdown at a later time")
	}
	if !has(opts, 'r') && !has(opts, 'p') && !has(opts, 'h') {
		return inv.unsupported("shutdown to single-user mode")
	}
	inv.out("Shutdown NOW!\nshutdown: [pid %d]\n", 1000+inv.model.Commands)
	inv.goDown(has(opts, 'r'))
	return 0
}

// cmdReboot is reboot(8).
func cmdReboot(inv *Invocation) int {
	_, args, err := getopt(inv.Args, "nqdl")
	if err != nil || len(args) > 0 {
		return inv.unsupported("reboot with these arguments")
	}
	inv.goDown(true)
	return 0
}

// cmdDaemon is daemon(8) (usr.sbin/daemon/daemon.c): -c, -f, -o FILE,
// -p/-P PIDFILE (accepted, not written), -t TITLE, -S. It opens the output
// file first (exit 7 when it cannot), then detaches as daemon(3) does: the
// command returns at once with status 0 while the program runs on in a new
// session, under a supervisor that appends its output to FILE (-o). -f
// points standard input, output and error at /dev/null; -c runs it in /
// instead of the current directory. The program is found as execvp does
// (a bare name in PATH); an absolute path of the machine runs its
// simulated command or its file under the root. The machine records the
// process (Model.Processes; Machine.Wait waits for it).
func cmdDaemon(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "cfo:p:P:t:S")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) == 0 {
		inv.errf("usage: daemon [-cfHrS] [-p child_pidfile] [-P supervisor_pidfile]\n              [-u user] [-o output_file] [-t title]\n              [-l syslog_facility] [-s syslog_priority]\n              [-T syslog_tag] [-m output_mask] [-R restart_delay_secs]\ncommand arguments ...\n")
		return 1
	}
	d := &detached{argv: args, stdin: inv.Stdin, stdout: inv.Stdout, stderr: inv.Stderr}
	if o, ok := value(opts, 'o'); ok {
		v := inv.resolve(o)
		if v.real == "" {
			return inv.unsupported("daemon -o on a mounted ESP or device")
		}
		f, err := os.OpenFile(v.real, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			inv.errf("daemon: open: %v\n", sysErr(err))
			return 7
		}
		d.stdout, d.stderr = f, f
		d.output = f
	}
	if has(opts, 'f') {
		d.stdin = nil
		if d.output == nil {
			d.stdout, d.stderr = nil, nil
		}
	}
	if has(opts, 'c') {
		d.dir = inv.m.Root
	}
	d.prog = inv.program(args[0])
	for k, v := range inv.Env {
		d.env = append(d.env, k+"="+v)
	}
	inv.after = func() int {
		if d.output != nil {
			defer d.output.Close()
		}
		if err := inv.m.detach(d); err != nil {
			inv.errf("daemon: %v\n", err)
			return 1
		}
		return 0
	}
	return 0
}

// program finds the file execvp would run for name: a bare name in the
// PATH of the command's environment; an absolute path of the machine is
// its simulated command (the link at LinkPath) when there is one, else
// its file under the root. It returns "" when there is nothing to run.
func (inv *Invocation) program(name string) string {
	if !strings.Contains(name, "/") {
		p, err := lookPath(inv, name)
		if err != nil {
			return ""
		}
		return p
	}
	if !filepath.IsAbs(name) {
		return name
	}
	if _, inside := inv.m.machinePath(filepath.Clean(name)); !inside {
		if st, err := os.Lstat(inv.m.LinkPath(name)); err == nil && st.Mode()&os.ModeSymlink != 0 {
			return inv.m.LinkPath(name)
		}
	}
	return inv.m.HostPath(name)
}

// lookPath finds a program in the PATH of the invocation's environment.
func lookPath(inv *Invocation, name string) (string, error) {
	for _, dir := range filepath.SplitList(inv.env("PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found")
}
