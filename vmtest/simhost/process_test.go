// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// startHung starts argv through the machine's bin/ links as a process of
// the machine with a hang fault on it, and returns once the command says
// it hangs (it prints the fault's message on its standard error).
func startHung(t *testing.T, tm *testMachine, argv ...string) *Process {
	t.Helper()
	faults, _ := json.Marshal([]Fault{{Command: argv[0], Action: FaultHang, Message: "waiting for an answer"}})
	cmd := exec.Command(resolveIn(tm.Env(), argv[0]), argv[1:]...)
	cmd.Env = append(tm.Env(), FaultsEnv+"="+string(faults))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := tm.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	waitLine(t, stderr, "waiting for an answer")
	return p
}

// waitLine reads r until a line holds want; the end of r first fails the test.
func waitLine(t *testing.T, r io.Reader, want string) {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.Contains(sc.Text(), want) {
			go io.Copy(io.Discard, r)
			return
		}
	}
	t.Fatalf("the output ended before a line with %q", want)
}

// signalOf is the signal that ended a process, 0 when it exited.
func signalOf(err error) syscall.Signal {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal()
		}
	}
	return 0
}

// TestHangUntilKilled: a hung command started through the bin/ links
// stays running, recorded in the history as started and not finished,
// until a signal ends it.
func TestHangUntilKilled(t *testing.T) {
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	p := startHung(t, tm, "zpool", "status")
	pid := p.Cmd.Process.Pid
	m := tm.model()
	last := m.History[len(m.History)-1]
	if !last.Waiting || last.Pid != pid || strings.Join(last.Argv, " ") != "zpool status" {
		t.Errorf("history of the hung command: %+v (pid %d)", last, pid)
	}
	// Other commands run meanwhile.
	if r := tm.run("zpool", "status"); r.code != 0 {
		t.Errorf("zpool status beside the hung one: %v", r)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if sig := signalOf(p.Wait()); sig != syscall.SIGTERM {
		t.Errorf("the hung command ended by %v, want SIGTERM", sig)
	}
	if m := tm.model(); len(m.Running.Processes) != 0 {
		t.Errorf("processes after the hung command was killed: %+v", m.Running.Processes)
	}
}

// TestHungCommandSignalledAtOnce: a hung command that a program of the
// machine started gets SIGTERM as soon as its message says it hangs (an
// admin, or the next zupgrade, stops it then); it ends by that signal,
// the history keeps it as waiting, and it is no longer among the
// machine's processes. The program is a shell,
// whose Wait does not forget the command's pid for it.
func TestHungCommandSignalledAtOnce(t *testing.T) {
	tm, cmd, stderr := hangingScript(t, "zpool", "zpool status\necho \"zpool ended: $?\"\n")
	var out strings.Builder
	cmd.Stdout = &out
	p, err := tm.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	waitLine(t, stderr, "waiting for an answer")
	hung := childOf(t, cmd.Process.Pid)
	if err := syscall.Kill(hung, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil || out.String() != fmt.Sprintf("zpool ended: %d\n", 128+int(syscall.SIGTERM)) {
		t.Fatalf("the shell ended with %v after printing %q; want the hung command ended by SIGTERM", err, out.String())
	}
	m := tm.model()
	if len(m.History) != 1 || !m.History[0].Waiting || m.History[0].Pid != hung || strings.Join(m.History[0].Argv, " ") != "zpool status" {
		t.Errorf("history: %+v; want the stopped command (pid %d), waiting", m.History, hung)
	}
	if len(m.Running.Processes) != 0 {
		t.Errorf("processes after the hung command was stopped: %+v", m.Running.Processes)
	}
}

// childOf returns the pid of the one child of the process pid (from
// /proc, so Linux only).
func childOf(t *testing.T, pid int) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, not ")".
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		if f := strings.Fields(string(rest)); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			child, err := strconv.Atoi(e.Name())
			if err == nil {
				return child
			}
		}
	}
	t.Fatalf("process %d has no child", pid)
	return 0
}

// TestPowerCutKillsProcesses: a power cut ends every process of the
// machine with SIGKILL: programs started with Start (with what they
// started) and hung commands, whether the cut comes from outside or from a
// fault inside a command one of them runs.
func TestPowerCutKillsProcesses(t *testing.T) {
	t.Run("from outside", func(t *testing.T) {
		tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
		p := startHung(t, tm, "freebsd-update", "fetch")
		if err := tm.PowerCut(); err != nil {
			t.Fatal(err)
		}
		if sig := signalOf(p.Wait()); sig != syscall.SIGKILL {
			t.Errorf("the hung command ended by %v at the power cut, want SIGKILL", sig)
		}
	})
	t.Run("during a command the program runs", func(t *testing.T) {
		tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE",
			Faults: []*Fault{{Command: "sync", Action: FaultPowerCut}}})
		script := filepath.Join(t.TempDir(), "job")
		if err := os.WriteFile(script, []byte("sync\necho survived the power cut\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/bin/sh", script)
		cmd.Env = tm.Env()
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		p, err := tm.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		if sig := signalOf(p.Wait()); sig != syscall.SIGKILL || strings.Contains(out.String(), "survived") {
			t.Errorf("the program ended by %v at the power cut, want SIGKILL; output:\n%s", sig, out.String())
		}
		if m := tm.model(); m.Power != PowerOff {
			t.Errorf("power %s after the cut", m.Power)
		}
	})
}
