// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// Fault is an injected failure. It is armed when the machine is made
// (from the spec), when Machine.AddFault is called, or when a command
// first sees it in $SIMHOST_FAULTS. A fault fires on a command that
// matches Command and Args, once more than After commands have run since
// it was armed, at most Times times (default once; -1 for always).
type Fault struct {
	// Command is the command name to match (gpart); empty matches any.
	Command string `json:"command,omitempty"`
	// Args must occur in the space-joined arguments (bootcode).
	Args string `json:"args,omitempty"`
	// After is the number of commands that must run before it can fire.
	After int `json:"after,omitempty"`
	// Action is fail (the command exits with Exit and Message, doing
	// nothing), hang (the command prints Message, if any, like a prompt,
	// and never returns until it is killed), remove-disk (Disk
	// disappears just before the command runs), power-cut (the power
	// fails: before the command when it matches no Command, during it
	// when it does) or stall (the command prints Message, if any, then
	// waits until the FIFO Until is opened for writing and closed, and
	// then runs as usual: a slow command, which any can be, e.g.
	// freebsd-update fetching over a slow link).
	Action  string `json:"action"`
	Until   string `json:"until,omitempty"`
	Disk    string `json:"disk,omitempty"`
	Exit    int    `json:"exit,omitempty"`
	Message string `json:"message,omitempty"`
	Times   int    `json:"times,omitempty"`
	// Partial, for hang, prints Message on standard output without a
	// newline, as freebsd-update leaves its progress while files come
	// (fetch_progress in usr.sbin/freebsd-update/freebsd-update.sh prints
	// its dots and counts with echo -n).
	Partial bool `json:"partial,omitempty"`

	// ArmedAt is the command count when the fault was armed.
	ArmedAt int `json:"armed_at"`
	// Fired counts how often it fired.
	Fired int `json:"fired"`
	// Source is "spec", "api" or the $SIMHOST_FAULTS text it came from.
	Source string `json:"source,omitempty"`
}

// The fault actions.
const (
	FaultFail       = "fail"
	FaultHang       = "hang"
	FaultRemoveDisk = "remove-disk"
	FaultPowerCut   = "power-cut"
	FaultStall      = "stall"
)

func (f *Fault) check() error {
	switch f.Action {
	case FaultFail, FaultHang, FaultPowerCut:
	case FaultStall:
		if f.Until == "" {
			return fmt.Errorf("fault stall needs until, the FIFO it waits on")
		}
	case FaultRemoveDisk:
		if f.Disk == "" {
			return fmt.Errorf("fault remove-disk needs a disk")
		}
	default:
		return fmt.Errorf("fault action %q (want fail, hang, stall, remove-disk or power-cut)", f.Action)
	}
	if f.After < 0 {
		return fmt.Errorf("fault after %d", f.After)
	}
	return nil
}

// definition is the fault without its bookkeeping, used to recognise a
// fault from $SIMHOST_FAULTS that was already armed.
func (f *Fault) definition() string {
	c := *f
	c.ArmedAt, c.Fired, c.Source = 0, 0, ""
	data, _ := json.Marshal(c)
	return string(data)
}

// matches reports whether the fault fires for this command now.
func (f *Fault) matches(m *Model, name string, args []string) bool {
	limit := f.Times
	if limit == 0 {
		limit = 1
	}
	if limit > 0 && f.Fired >= limit {
		return false
	}
	if m.Commands-f.ArmedAt <= f.After {
		return false
	}
	if f.Command != "" && f.Command != name {
		return false
	}
	if f.Args != "" && !strings.Contains(strings.Join(args, " "), f.Args) {
		return false
	}
	return true
}

// armEnvFaults adds the faults of $SIMHOST_FAULTS that are not yet armed.
func armEnvFaults(m *Model, text string) error {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var faults []*Fault
	if err := json.Unmarshal([]byte(text), &faults); err != nil {
		return fmt.Errorf("%s: %w", FaultsEnv, err)
	}
	for _, f := range faults {
		if err := f.check(); err != nil {
			return fmt.Errorf("%s: %w", FaultsEnv, err)
		}
		def := f.definition()
		known := false
		for _, g := range m.Faults {
			if g.Source == def {
				known = true
				break
			}
		}
		if !known {
			f.ArmedAt = m.Commands - 1
			f.Source = def
			m.Faults = append(m.Faults, f)
		}
	}
	return nil
}

// AddFault arms a fault now.
func (m *Machine) AddFault(f Fault) error {
	if err := f.check(); err != nil {
		return err
	}
	return m.Update(func(model *Model) error {
		f.ArmedAt = model.Commands
		f.Source = "api"
		model.Faults = append(model.Faults, &f)
		return nil
	})
}

// removeDisk makes a disk disappear (it stays in the model as missing).
func (m *Model) removeDisk(name string) error {
	d := m.disk(name)
	if d == nil {
		return fmt.Errorf("no disk %q", name)
	}
	d.Missing = true
	if m.Running != nil {
		var keep []Mount
		for _, mt := range m.Running.Mounts {
			if mt.Disk != name {
				keep = append(keep, mt)
			}
		}
		m.Running.Mounts = keep
	}
	return nil
}

// cutPower turns the machine off without warning: the running state is
// lost, every process of the machine is killed (once the model is saved),
// and every FAT file system goes back to what was synced, with the
// files written since then left empty (torn).
func (m *Model) cutPower() {
	m.Power = PowerOff
	m.endRunning()
	for _, d := range m.Disks {
		for _, p := range d.Partitions {
			if p.FAT != nil {
				p.FAT.tear()
			}
		}
	}
}

// RemoveDisk pulls a disk out of the machine.
func (m *Machine) RemoveDisk(name string) error {
	return m.Update(func(model *Model) error { return model.removeDisk(name) })
}

// AttachDisk puts a removed disk back.
func (m *Machine) AttachDisk(name string) error {
	return m.Update(func(model *Model) error {
		d := model.disk(name)
		if d == nil {
			return fmt.Errorf("no disk %q", name)
		}
		d.Missing = false
		return nil
	})
}

// PowerCut cuts the power now.
func (m *Machine) PowerCut() error {
	return m.Update(func(model *Model) error {
		model.cutPower()
		return nil
	})
}

// Pausing at a power cut, for VM harnesses (vmtest/harness). Not a FreeBSD
// rule: it follows the pause points of OpenZFS's ztest and the "pause, then
// freeze" power cut of vmtest's issue ("vmtest: nightly VM integration
// tests"), so that nothing of the machine runs after the cut.

// PauseEnv names a file (a FIFO the harness reads) to which a command whose
// power-cut fault fired writes the line "pause" once the model is saved;
// the command then never returns (it holds the machine's lock) until it is
// killed or its virtual machine is frozen and stopped.
const PauseEnv = "SIMHOST_PAUSE_ON_CUT"

// pauseAfterCut saves the model of a command that cut the power (exit
// 137). With $SIMHOST_PAUSE_ON_CUT set, the files are committed and the cut
// reported once the model is written, before the machine's processes are
// killed (this one among them when a boot hook started it); the command
// then blocks until it is killed or its VM is stopped.
func pauseAfterCut(env map[string]string, model *Model, finish func(int) int) int {
	path := env[PauseEnv]
	if path == "" {
		return finish(137)
	}
	model.saved = func() {
		commitWrites(env)
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err == nil {
			fmt.Fprintln(f, "pause")
			f.Close()
		}
	}
	finish(137)
	for {
		time.Sleep(time.Hour)
	}
}

// SyncEnv, when "1", makes every simulated command commit the files it
// wrote and the model it saved (its rename too), as a ZFS transaction group commits
// (openzfs/zfs module/zfs/txg.c: after a crash the pool is at the last
// committed txg, every file old or new, never torn). The machine's files
// are real files: on a real disk (the VM harness's ext4) they would be
// torn by a power cut unless synced. Off by default, since sync(2) on a
// shared test host is costly.
const SyncEnv = "SIMHOST_SYNC"

// commitWrites syncs the file systems when $SIMHOST_SYNC is 1; called once
// the model is saved.
func commitWrites(env map[string]string) {
	if env[SyncEnv] == "1" {
		syscall.Sync()
	}
}

// stall waits until the FIFO path is opened for writing and closed (a
// stall fault), with the machine's lock held, as a slow command holds
// what it works on. The wait is on the FIFO, never on a clock.
func stall(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}
