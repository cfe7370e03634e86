// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// ProcessRecord is a process of the running machine that may outlive the
// simulated command that started it: a program started with Machine.Start
// (zupgrade, a boot hook, the child of daemon or service), which leads a
// process group of its own, or a simulated command waiting until it is
// killed (a hang fault, a prompt no one answers). A power cut or a reset
// ends them all with SIGKILL, as it ends every process of a real host.
type ProcessRecord struct {
	Pid int `json:"pid"`
	// Group: Pid leads a process group, and the whole group is killed.
	Group bool     `json:"group,omitempty"`
	Argv  []string `json:"argv,omitempty"`
}

// Process is a process started on the machine with Machine.Start.
type Process struct {
	Cmd *exec.Cmd
	m   *Machine
}

// Start starts cmd as a process of the running machine, at the head of a
// process group of its own, and records it: a power cut or a reset of the
// machine kills the group with SIGKILL. The machine's lock is held while it
// starts, so no simulated command can cut the power before the process is
// recorded. cmd must not be started yet; wait for it with Process.Wait.
// On a machine that is not running the process is started, not recorded.
func (m *Machine) Start(cmd *exec.Cmd) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	err := m.Update(func(model *Model) error {
		if err := cmd.Start(); err != nil {
			return err
		}
		if model.Running != nil {
			model.Running.Processes = append(model.Running.Processes, ProcessRecord{Pid: cmd.Process.Pid, Group: true, Argv: cmd.Args})
		}
		return nil
	})
	if err != nil {
		if cmd.Process != nil {
			// Started, but the model could not be saved: do not leave a
			// process the machine does not know.
			cmd.Process.Kill()
			cmd.Wait()
		}
		return nil, err
	}
	return &Process{Cmd: cmd, m: m}, nil
}

// Wait waits for the process to end and removes it from the machine's
// processes.
func (p *Process) Wait() error {
	err := p.Cmd.Wait()
	p.m.forget(p.Cmd.Process.Pid)
	return err
}

// run runs cmd as a process of the machine and waits for it.
func (m *Machine) run(cmd *exec.Cmd) error {
	p, err := m.Start(cmd)
	if err != nil {
		return err
	}
	return p.Wait()
}

// forget removes a process that ended from the running machine's records.
func (m *Machine) forget(pid int) {
	m.Update(func(model *Model) error {
		model.forget(pid)
		return nil
	})
}

func (model *Model) forget(pid int) {
	if model.Running == nil {
		return
	}
	var keep []ProcessRecord
	for _, p := range model.Running.Processes {
		if p.Pid != pid {
			keep = append(keep, p)
		}
	}
	model.Running.Processes = keep
}

// endRunning ends the running system: its state is gone, and its
// processes are killed once the model that says so is saved.
func (model *Model) endRunning() {
	if model.Running != nil {
		model.doomed = append(model.doomed, model.Running.Processes...)
	}
	model.Running = nil
}

// killDoomed kills the processes of a system that ended, this process
// last when it is one of them. A record is trusted only while the process
// still carries the machine's SIMHOST_ROOT: a pid reused by a process of
// another machine or of the test host is left alone.
func (m *Machine) killDoomed(model *Model) {
	doomed := model.doomed
	model.doomed = nil
	self, selfGroup := os.Getpid(), syscall.Getpgrp()
	last := 0
	for _, p := range doomed {
		target := p.Pid
		if p.Group {
			target = -p.Pid
		}
		if (p.Group && p.Pid == selfGroup) || (!p.Group && p.Pid == self) {
			last = target
			continue
		}
		if m.owns(p.Pid) {
			syscall.Kill(target, syscall.SIGKILL)
		}
	}
	if last != 0 {
		syscall.Kill(last, syscall.SIGKILL)
	}
}

// owns reports whether pid is a live process of this machine: its
// environment names the machine (read from /proc where there is one; a
// system without /proc trusts the record).
func (m *Machine) owns(pid int) bool {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		return true
	}
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	return bytes.Contains(env, []byte(RootEnv+"="+m.Root+"\x00"))
}

// recordSelf records this process (a simulated command that waits until
// it is killed) among the running machine's processes.
func (inv *Invocation) recordSelf() {
	if inv.model.Running != nil && inv.process {
		inv.model.Running.Processes = append(inv.model.Running.Processes, ProcessRecord{Pid: os.Getpid(), Argv: append([]string{inv.Name}, inv.Args...)})
	}
}

// waitingBeside returns the pids of the running system's waiting commands
// (recorded by recordSelf) that are still alive: they run beside the
// command being started.
func (m *Machine) waitingBeside(model *Model) []int {
	if model.Running == nil {
		return nil
	}
	var pids []int
	for _, p := range model.Running.Processes {
		if !p.Group && p.Pid != os.Getpid() && m.owns(p.Pid) {
			pids = append(pids, p.Pid)
		}
	}
	return pids
}
