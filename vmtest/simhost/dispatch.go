// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Invocation is one run of a simulated command against the model. The
// dispatcher holds the machine's lock for its whole run.
type Invocation struct {
	Name   string
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Env    map[string]string
	Ctx    context.Context

	m     *Machine
	model *Model
	// waiting is set when the command waits until it is killed.
	waiting bool
	// cutMidway is set when a power-cut fault fires during this command;
	// a command that can be interrupted half way checks it.
	cutMidway bool
	// after runs once the model is saved and the lock released (for
	// commands that start processes which use the machine themselves).
	after func() int
	// release saves the model and lets other commands run; the command
	// must not touch the model afterwards.
	release func()
	// process: the command runs as a process of its own (through the
	// bin/ links), not inside the caller's process (Machine.Exec).
	process bool
	// ends receives the signals that end a waiting command (trapEnds).
	ends chan os.Signal
}

// trapEnds makes SIGTERM, SIGINT and SIGHUP wait for waitKilled instead
// of ending the process at once. A command that waits until it is killed
// calls it before it shows that it waits (its message, the model release
// saves), so that a signal sent by whoever saw that finds the command
// waiting and is handled there.
func (inv *Invocation) trapEnds() {
	if inv.process && inv.ends == nil {
		inv.ends = make(chan os.Signal, 1)
		signal.Notify(inv.ends, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	}
}

// waitKilled blocks like a process waiting forever (on a terminal, an
// editor) until it is killed; other commands run meanwhile, and the
// model's history keeps the command as started and not finished. In
// process (Machine.Exec) the end of the context kills it. As a process of
// its own it is among the machine's processes (a power cut kills it) and
// waits for a signal: SIGKILL, or SIGTERM, SIGINT or SIGHUP, whose default
// action ends a process blocked on a terminal read, as it ends this one.
func (inv *Invocation) waitKilled() int {
	inv.trapEnds()
	inv.waiting = true
	inv.recordSelf()
	inv.release()
	if !inv.process {
		<-inv.Ctx.Done()
		return 143
	}
	s := (<-inv.ends).(syscall.Signal)
	inv.m.forget(os.Getpid())
	signal.Reset(s)
	syscall.Kill(os.Getpid(), s)
	select {} // the signal's default action ends the process
}

// handler runs one command and returns its exit status.
type handler func(inv *Invocation) int

// commands maps every command name the simulated host answers to.
var commands map[string]handler

func init() {
	commands = map[string]handler{
		"id": cmdID, "uname": cmdUname, "freebsd-version": cmdFreebsdVersion,
		"sysctl": cmdSysctl, "kenv": cmdKenv, "mount": cmdMount,
		"mount_msdosfs": cmdMountMsdosfs, "umount": cmdUmount,
		"ls": cmdLs, "cat": cmdCat, "grep": cmdGrep, "file": cmdFile,
		"sha256": cmdSha256, "cp": cmdCp, "mv": cmdMv, "rm": cmdRm,
		"mkdir": cmdMkdir, "install": cmdInstall, "sync": cmdSync,
		"sed": cmdSed, "date": cmdDate, "logger": cmdLogger, "dd": cmdDd,
		"zpool": cmdZpool, "zfs": cmdZfs, "gpart": cmdGpart, "glabel": cmdGlabel,
		"bectl": cmdBectl, "efibootmgr": cmdEfibootmgr,
		"freebsd-update": cmdFreebsdUpdate,
		"pkg":            cmdPkg, "pkg-static": cmdPkgStatic, "portmaster": cmdPortmaster,
		"sysrc": cmdSysrc, "service": cmdService,
		"shutdown": cmdShutdown, "reboot": cmdReboot, "daemon": cmdDaemon,
		"df": cmdDf, "newfs_msdos": cmdNewfsMsdos, "watchdog": cmdWatchdog,
	}
}

// programOf says where a command's program lives in the machine's tree
// and how it is linked, for commands outside the base system too.
func programOf(name string) (baseProgram, bool) {
	switch name {
	case "pkg-static":
		return baseProgram{Name: name, Path: "/usr/local/sbin/pkg-static", Static: true}, true
	case "portmaster":
		return baseProgram{Name: name, Path: "/usr/local/sbin/portmaster", Script: true}, true
	}
	return programByName(name)
}

// commandPaths lists the paths of a command's programs on FreeBSD, where
// the machine has its links: the path programOf names and, for pkg, also
// pkg(8) itself, /usr/local/sbin/pkg (freebsd/pkg installs pkg and
// pkg-static in PREFIX/sbin), besides the pkg(7) bootstrap shim
// /usr/sbin/pkg (usr.sbin/pkg), which hands over to it.
func commandPaths(name string) []string {
	p, ok := programOf(name)
	if !ok {
		return nil
	}
	if name == "pkg" {
		return []string{p.Path, "/usr/local/sbin/pkg"}
	}
	return []string{p.Path}
}

// Exec runs one simulated command on the machine, the way a process
// started through the bin/ links would, and returns its exit status.
func (m *Machine) Exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer, env map[string]string) int {
	return m.exec(ctx, argv, stdin, stdout, stderr, env, false)
}

// exec runs one simulated command; process says whether it runs as a
// process of its own.
func (m *Machine) exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer, env map[string]string, process bool) int {
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "simhost: no command")
		return 127
	}
	name := filepath.Base(argv[0])
	h, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "simhost: %s: command not found (not simulated)\n", name)
		return 127
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	inv := &Invocation{Name: name, Args: argv[1:], Stdin: stdin, Stdout: stdout, Stderr: stderr, Env: env, Ctx: ctx, m: m, process: process}

	l, err := m.lock()
	if err != nil {
		fmt.Fprintf(stderr, "simhost: %v\n", err)
		return 127
	}
	locked := true
	defer func() {
		if locked {
			l.Unlock()
		}
	}()
	model, err := m.load()
	if err != nil {
		fmt.Fprintf(stderr, "simhost: %v\n", err)
		return 127
	}
	inv.model = model
	model.saved = func() { commitWrites(env) }

	switch model.Power {
	case PowerGoingDown:
		fmt.Fprintf(stderr, "simhost: %s: killed: the machine is going down for reboot (run simhost boot)\n", name)
		return 143
	case PowerOff:
		fmt.Fprintf(stderr, "simhost: %s: the machine is powered off (run simhost boot)\n", name)
		return 137
	}

	if dir := m.realDisks(); dir != "" {
		if err := m.remountRealESPs(model, dir); err != nil {
			fmt.Fprintf(stderr, "simhost: %v\n", err)
			return 127
		}
	}
	model.Commands++
	model.Clock = model.Clock.Add(time.Second)
	entry := len(model.History)
	model.History = append(model.History, Command{N: model.Commands, Argv: append([]string{name}, inv.Args...)})
	if process {
		model.History[entry].Pid = os.Getpid()
	}
	model.History[entry].Beside = m.waitingBeside(model)
	finish := func(code int) int {
		if !locked {
			return code
		}
		model.History[entry].Exit = code
		if err := m.save(model); err != nil {
			fmt.Fprintf(stderr, "simhost: save model: %v\n", err)
			return 127
		}
		return code
	}
	inv.release = func() {
		if locked {
			if inv.waiting {
				model.History[entry].Exit = -1
				model.History[entry].Waiting = true
			}
			if err := m.save(model); err != nil {
				fmt.Fprintf(stderr, "simhost: save model: %v\n", err)
			}
			l.Unlock()
			locked = false
		}
	}

	if err := armEnvFaults(model, env[FaultsEnv]); err != nil {
		fmt.Fprintf(stderr, "simhost: %v\n", err)
		return finish(127)
	}
	for _, f := range model.Faults {
		if !f.matches(model, name, inv.Args) {
			continue
		}
		f.Fired++
		switch f.Action {
		case FaultFail:
			msg := f.Message
			if msg == "" {
				msg = fmt.Sprintf("%s: injected failure", name)
			}
			fmt.Fprintln(stderr, msg)
			code := f.Exit
			if code == 0 {
				code = 1
			}
			return finish(code)
		case FaultHang:
			inv.trapEnds()
			switch {
			case f.Partial:
				fmt.Fprint(inv.Stdout, f.Message)
			case f.Message != "":
				fmt.Fprintln(stderr, f.Message)
			}
			return inv.waitKilled()
		case FaultStall:
			if f.Message != "" {
				fmt.Fprintln(stderr, f.Message)
			}
			if err := stall(f.Until); err != nil {
				fmt.Fprintf(stderr, "simhost: stall: %v\n", err)
				return finish(127)
			}
		case FaultRemoveDisk:
			model.removeDisk(f.Disk)
		case FaultPowerCut:
			if f.Command == "" {
				model.cutPower()
				fmt.Fprintf(stderr, "simhost: %s: power failure\n", name)
				return pauseAfterCut(env, model, finish)
			}
			inv.cutMidway = true
		}
	}

	if code, ok := inv.checkProgram(); !ok {
		return finish(code)
	}
	code := h(inv)
	if inv.cutMidway {
		model.cutPower()
		fmt.Fprintf(stderr, "simhost: %s: power failure\n", name)
		return pauseAfterCut(env, model, finish)
	}
	code = finish(code)
	if inv.after != nil && code == 0 {
		l.Unlock()
		locked = false
		code = inv.after()
	}
	return code
}

// checkProgram fails the command the way a real host would when its
// program is not installed in the running system, or a shared object it
// needs is missing (the run-time linker's error).
func (inv *Invocation) checkProgram() (int, bool) {
	prog, ok := programOf(inv.Name)
	if !ok {
		return 0, true
	}
	data, err := os.ReadFile(inv.m.HostPath(prog.Path))
	if err != nil {
		fmt.Fprintf(inv.Stderr, "%s: Command not found.\n", inv.Name)
		return 127, false
	}
	if missing, by := inv.missingObject(data, filepath.Base(prog.Path), 0); missing != "" {
		fmt.Fprintf(inv.Stderr, "ld-elf.so.1: Shared object \"%s\" not found, required by \"%s\"\n", filepath.Base(missing), by)
		return 1, false
	}
	return 0, true
}

// missingObject follows the "needs" lines of a program or shared object
// and returns the first one absent from the tree, with who needs it.
func (inv *Invocation) missingObject(data []byte, name string, depth int) (string, string) {
	if depth > 8 {
		return "", ""
	}
	for _, need := range programNeeds(data) {
		dep, err := os.ReadFile(inv.m.HostPath(need))
		if err != nil {
			// The run-time linker looks objects up by name (pkgdb.go,
			// ldconfigFind), e.g. in misc/compatNNx's directory.
			if alt := inv.m.ldconfigFind(need); alt != "" {
				dep, err = os.ReadFile(inv.m.HostPath(alt))
			}
		}
		if err != nil {
			return need, name
		}
		if miss, by := inv.missingObject(dep, filepath.Base(need), depth+1); miss != "" {
			return miss, by
		}
	}
	return "", ""
}

// Main is the multi-call entry point: argv[0] names the command. As
// "simhost" it runs the administrative commands (new, boot, state, ...).
func Main(argv []string) int {
	if len(argv) == 0 {
		return 127
	}
	name := filepath.Base(argv[0])
	if name == binaryName && len(argv) > 1 && argv[1] == superviseCommand {
		return supervise(argv[2:])
	}
	if name == binaryName || strings.HasPrefix(name, binaryName+".") {
		return adminMain(argv[1:], os.Stdin, os.Stdout, os.Stderr)
	}
	root, err := FindRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "simhost: %s: %v\n", name, err)
		return 127
	}
	m, err := Open(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "simhost: %s: %v\n", name, err)
		return 127
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return m.exec(context.Background(), argv, os.Stdin, os.Stdout, os.Stderr, env, true)
}

// out and errf write to the command's standard output and error.
func (inv *Invocation) out(format string, a ...any) { fmt.Fprintf(inv.Stdout, format, a...) }
func (inv *Invocation) errf(format string, a ...any) {
	fmt.Fprintf(inv.Stderr, format, a...)
}

// unsupported fails loudly for a command, flag or form the simulated
// host does not implement.
func (inv *Invocation) unsupported(what string) int {
	inv.errf("simhost: %s: %s is not simulated\n", inv.Name, what)
	return 127
}

// env reads a variable of the command's environment.
func (inv *Invocation) env(k string) string { return inv.Env[k] }

// running is the running state; the dispatcher guarantees it is set.
func (inv *Invocation) running() *Running {
	if inv.model.Running == nil {
		inv.model.Running = &Running{}
	}
	return inv.model.Running
}

// opt is one parsed command-line option.
type opt struct {
	flag byte
	val  string
}

// getopt parses options the way getopt(3) does: spec lists the letters,
// a letter followed by ':' takes a value. Parsing stops at "--" or at the
// first operand. An unknown option is returned as an error naming it.
func getopt(args []string, spec string) ([]opt, []string, error) {
	var opts []opt
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte(spec, c)
			if k < 0 || c == ':' {
				return nil, nil, fmt.Errorf("option -%c", c)
			}
			if k+1 < len(spec) && spec[k+1] == ':' {
				if j+1 < len(a) {
					opts = append(opts, opt{c, a[j+1:]})
				} else if i+1 < len(args) {
					i++
					opts = append(opts, opt{c, args[i]})
				} else {
					return nil, nil, fmt.Errorf("option -%c without its value", c)
				}
				break
			}
			opts = append(opts, opt{c, ""})
		}
	}
	return opts, args[i:], nil
}

// has reports whether flag f was given.
func has(opts []opt, f byte) bool {
	for _, o := range opts {
		if o.flag == f {
			return true
		}
	}
	return false
}

// value returns the last value of flag f.
func value(opts []opt, f byte) (string, bool) {
	v, ok := "", false
	for _, o := range opts {
		if o.flag == f {
			v, ok = o.val, true
		}
	}
	return v, ok
}
