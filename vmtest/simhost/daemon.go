// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
)

// Daemon is a program daemon(8) started on the machine. daemon detaches
// (usr.sbin/daemon/daemon.c calls daemon(3): fork, the parent exits, the
// child calls setsid), so the program runs on while rc goes on with the
// boot, and nothing on the host waits for it. The machine records it so
// that tests can wait for it (Machine.Wait); its supervisor is also one of
// the running system's processes, which a power cut, reset or reboot kills.
type Daemon struct {
	// ID numbers the machine's processes in the order they started.
	ID int `json:"id"`
	// PID is the supervisor's process ID, which is also its process group.
	PID  int      `json:"pid"`
	Argv []string `json:"argv"`
	// State is running, exited, or killed (a power cut or a boot ends
	// every process of the system that ran before).
	State string `json:"state"`
	// Exit is the program's exit status, 128+N when signal N ended it.
	Exit int `json:"exit"`
	// Lock names the file in ROOT/.simhost/proc that the supervisor holds
	// locked while it runs.
	Lock string `json:"lock"`
	// Reported is set once Wait returned the record of the ended process.
	Reported bool `json:"reported,omitempty"`
}

// The states of a Daemon.
const (
	DaemonRunning = "running"
	DaemonExited  = "exited"
	DaemonKilled  = "killed"
)

// daemonLimit bounds the daemons the model remembers.
const daemonLimit = 100

// superviseCommand is the hidden simhost subcommand of the supervisor.
const superviseCommand = "-daemon-supervisor"

// detached is what daemon(8) starts: the program (its file, "" when
// execvp would find none), its argv, environment, directory ("" to keep
// the current one) and standard files (nil: /dev/null).
type detached struct {
	prog, dir      string
	argv, env      []string
	stdin          io.Reader
	stdout, stderr io.Writer
	output         *os.File
}

func (m *Machine) procDir() string { return filepath.Join(m.stateDir(), "proc") }

// detach starts d under a supervisor in a new session, records it in the
// model (and among the running system's processes), and returns without
// waiting. The supervisor holds its lock file locked from before it is
// recorded until it has recorded the exit, and starts the program only
// once it is recorded. It starts under the machine's lock, so that no
// power cut comes between its start and its record.
func (m *Machine) detach(d *detached) error {
	if err := os.MkdirAll(m.procDir(), 0o755); err != nil {
		return err
	}
	lock, err := os.CreateTemp(m.procDir(), "daemon-")
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	gateR, gateW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer gateW.Close()
	name := filepath.Base(lock.Name())
	sup := exec.Command(filepath.Join(m.BinDir(), binaryName), append([]string{superviseCommand, m.Root, name, d.dir, d.prog}, d.argv...)...)
	sup.Args[0] = binaryName
	sup.Env = d.env
	sup.Stdin, sup.Stdout, sup.Stderr = d.stdin, d.stdout, d.stderr
	sup.ExtraFiles = []*os.File{lock, gateR}
	sup.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = m.Update(func(model *Model) error {
		if err := sup.Start(); err != nil {
			return fmt.Errorf("%s: %w (the machine needs its bin/ links)", d.argv[0], err)
		}
		id := 1
		if n := len(model.Daemons); n > 0 {
			id = model.Daemons[n-1].ID + 1
		}
		model.Daemons = append(model.Daemons, &Daemon{ID: id, PID: sup.Process.Pid, Argv: d.argv, State: DaemonRunning, Lock: name})
		if len(model.Daemons) > daemonLimit {
			model.Daemons = model.Daemons[len(model.Daemons)-daemonLimit:]
		}
		if model.Running != nil {
			model.Running.Processes = append(model.Running.Processes, ProcessRecord{Pid: sup.Process.Pid, Group: true, Argv: sup.Args})
		}
		return nil
	})
	gateR.Close()
	if err != nil && sup.Process != nil {
		sup.Process.Kill()
	}
	return err
}

// supervise is the supervisor of a detached program: args are the machine
// root, the lock name, the directory, the program's file and its argv. It
// waits until detach has recorded it (its gate, fd 4, closes), runs the
// program, and records how it ended; its lock (fd 3) is released when it
// exits.
func supervise(args []string) int {
	if len(args) < 5 {
		fmt.Fprintf(os.Stderr, "simhost %s: bad arguments\n", superviseCommand)
		return 2
	}
	root, name, dir, prog, argv := args[0], args[1], args[2], args[3], args[4:]
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	gate := os.NewFile(4, "gate")
	io.Copy(io.Discard, gate)
	gate.Close()

	code := 0
	if prog == "" {
		// execvp failed in daemon's child: err(1, "%s", argv[0]).
		fmt.Fprintf(os.Stderr, "daemon: %s: No such file or directory\n", argv[0])
		code = 1
	} else {
		cmd := &exec.Cmd{Path: prog, Args: argv, Env: os.Environ(), Dir: dir, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		default:
			fmt.Fprintf(os.Stderr, "daemon: %s: %v\n", argv[0], sysErr(err))
			code = 1
		}
	}
	m := &Machine{Root: root}
	err := m.Update(func(model *Model) error {
		for _, p := range model.Daemons {
			if p.Lock == name && p.State == DaemonRunning {
				p.State, p.Exit = DaemonExited, code
			}
		}
		model.forget(os.Getpid())
		return nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "simhost: record the end of %s: %v\n", argv[0], err)
		return 1
	}
	return 0
}

// Wait waits until no process daemon(8) started on the machine runs any
// more, and returns the records of the processes that ended since the last
// Wait (or the machine's start). It waits on each supervisor's lock, not
// on a clock; ctx bounds it.
func (m *Machine) Wait(ctx context.Context) ([]Daemon, error) {
	model, err := m.Model()
	if err != nil {
		return nil, err
	}
	var waited []string
	for _, p := range model.Daemons {
		if p.State != DaemonRunning {
			continue
		}
		if err := m.waitLock(ctx, p.Lock); err != nil {
			return nil, fmt.Errorf("wait for %v (pid %d): %w", p.Argv, p.PID, err)
		}
		waited = append(waited, p.Lock)
	}
	var out []Daemon
	err = m.Update(func(model *Model) error {
		for _, p := range model.Daemons {
			if p.State == DaemonRunning && slices.Contains(waited, p.Lock) {
				// It ended without recording how: killed (a power cut,
				// a reset or a reboot ended the system it ran in).
				p.State, p.Exit = DaemonKilled, 128+int(syscall.SIGKILL)
			}
			if p.State != DaemonRunning && !p.Reported {
				p.Reported = true
				out = append(out, *p)
			}
		}
		return nil
	})
	return out, err
}

// waitLock blocks until the lock file name is free (its supervisor ended).
func (m *Machine) waitLock(ctx context.Context, name string) error {
	path := filepath.Join(m.procDir(), name)
	f, err := os.Open(path)
	if err != nil {
		return nil // gone with its supervisor
	}
	done := make(chan error, 1)
	go func() {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		f.Close()
		if err == nil {
			os.Remove(path)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
