// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestHungChildOutlivesItsParent: a program started on the machine runs a
// command that hangs; SIGKILL of the program alone leaves the command
// running, and the history shows a command started after it as running
// beside it.
func TestHungChildOutlivesItsParent(t *testing.T) {
	tm, cmd, stderr := hangingScript(t, "freebsd-update", "freebsd-update install\n")
	p, err := tm.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	waitLine(t, stderr, "waiting for an answer")
	var hung int
	for _, c := range tm.model().History {
		if c.Waiting && strings.Join(c.Argv, " ") == "freebsd-update install" {
			hung = c.Pid
		}
	}
	if hung == 0 {
		t.Fatal("the hung freebsd-update is not in the history")
	}
	t.Cleanup(func() { syscall.Kill(hung, syscall.SIGKILL) })
	// The parent alone, as kill -9 PID does.
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	if err := syscall.Kill(hung, 0); err != nil {
		t.Fatalf("the hung command died with its parent: %v", err)
	}
	tm.must("freebsd-version")
	m := tm.model()
	if last := m.History[len(m.History)-1]; !slices.Contains(last.Beside, hung) {
		t.Errorf("freebsd-version ran beside the hung freebsd-update (pid %d), the history says %v", hung, last.Beside)
	}
}

// hangingScript makes a machine whose command hangs with the message
// "waiting for an answer", and returns a shell running script on it (not
// started) with the pipe of its standard error.
func hangingScript(t *testing.T, command, script string) (*testMachine, *exec.Cmd, io.ReadCloser) {
	t.Helper()
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	faults, _ := json.Marshal([]Fault{{Command: command, Action: FaultHang, Message: "waiting for an answer"}})
	path := filepath.Join(t.TempDir(), "job")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", path)
	cmd.Env = append(tm.Env(), FaultsEnv+"="+string(faults))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	return tm, cmd, stderr
}
