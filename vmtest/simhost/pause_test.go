// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestPowerCutPausesForHarness: with $SIMHOST_PAUSE_ON_CUT set, the command
// whose power-cut fault fires saves the model (powered off), writes "pause"
// to the named FIFO and never returns until it is killed.
func TestPowerCutPausesForHarness(t *testing.T) {
	tm, cmd, r := cutGpartShow(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		lines <- line
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case line := <-lines:
		if line != "pause\n" {
			t.Errorf("read %q from the pause FIFO, want pause", line)
		}
	case err := <-exited:
		t.Fatalf("the command returned (%v) instead of pausing", err)
	}
	cmd.Process.Kill()
	err := <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Errorf("the command returned (%v) instead of blocking until killed", err)
	}
	if model := tm.model(); model.Power != PowerOff {
		t.Errorf("power %q after the cut, want off", model.Power)
	}
}

// TestPowerCutPausesBeforeKill: a command run by a process of the machine
// (a boot hook's, started with Machine.Start) is killed by its own power
// cut with the rest of the machine, but reports the cut first.
func TestPowerCutPausesBeforeKill(t *testing.T) {
	tm, cmd, r := cutGpartShow(t)
	p, err := tm.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Errorf("the command ended with %v, want killed by the cut", err)
	}
	// The command is gone: whatever it wrote before the kill is in the
	// FIFO now. One read of the non-blocking descriptor takes it, or
	// fails with EAGAIN when nothing was written (a reader goroutine
	// would race with the close that ends it).
	if line := readWaiting(t, r); line != "pause\n" {
		t.Errorf("read %q from the pause FIFO before the kill, want pause", line)
	}
}

// readWaiting reads once what is waiting in the FIFO r, without blocking:
// "" when nothing is.
func readWaiting(t *testing.T, r *os.File) string {
	t.Helper()
	raw, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	var n int
	var readErr error
	if err := raw.Read(func(fd uintptr) bool {
		n, readErr = syscall.Read(int(fd), buf)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if readErr != nil && readErr != syscall.EAGAIN {
		t.Fatalf("read the pause FIFO: %v", readErr)
	}
	if n < 0 {
		n = 0
	}
	return string(buf[:n])
}

// cutGpartShow makes a machine whose `gpart show` finds the power cut, and
// returns that command, to run through the links with PauseEnv naming a
// FIFO, and the FIFO opened for reading (read-write, so that the open never
// blocks on Linux; closed when the test ends).
func cutGpartShow(t *testing.T) (*testMachine, *exec.Cmd, *os.File) {
	t.Helper()
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	if err := tm.AddFault(Fault{Command: "gpart", Args: "show", Action: FaultPowerCut}); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "pause")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cmd := exec.Command(tm.LinkPath("/sbin/gpart"), "show")
	cmd.Env = append(tm.Env(), PauseEnv+"="+fifo)
	return tm, cmd, r
}
