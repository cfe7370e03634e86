// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestInterruptStopsAtSafePoint: SIGINT to apply's process group (a ^C on
// its terminal) while a command runs does not stop that command: apply
// waits until it ended, stops before the next step, leaves the run
// "interrupted" and exits 130. The next apply resumes the same run.
func TestInterruptStopsAtSafePoint(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole run on a simulated host; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p2", Updates: map[string]int{"14.3-RELEASE": 6}})
	fifo := filepath.Join(t.TempDir(), "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The backup step's bectl create is slow: it waits on the FIFO.
	if err := h.m.AddFault(simhost.Fault{Command: "bectl", Args: "create", Action: simhost.FaultStall, Until: fifo, Message: "bectl-create-is-slow"}); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(h.exe, "--state-dir", h.state, "apply")
	cmd.Env = h.m.Env()
	cmd.Dir = h.m.Root
	cmd.Stdout, cmd.Stderr = w, w
	p, err := h.m.Start(cmd)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	var out strings.Builder
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// waitFor reads zupgrade's output until a line holds s.
	waitFor := func(s string) {
		t.Helper()
		for l := range lines {
			out.WriteString(l + "\n")
			if strings.Contains(l, s) {
				return
			}
		}
		t.Fatalf("zupgrade ended without printing %q:\n%s", s, out.String())
	}
	waitFor("bectl-create-is-slow")
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor("stopping at the next safe point")
	// Only now may the command end; apply must have waited for it.
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for l := range lines {
		out.WriteString(l + "\n")
	}
	code := 0
	if err := p.Wait(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	if code != ExitInterrupted {
		t.Fatalf("interrupted apply: exit %d, want %d:\n%s", code, ExitInterrupted, out.String())
	}
	j := h.journal()
	if j == nil || j.Status != steps.StatusInterrupted {
		t.Fatalf("journal after the interrupt: %+v\n%s", j, out.String())
	}
	runID := j.RunID
	if r := j.Record(steps.StepBackup); r == nil || r.State != steps.StepDone {
		t.Errorf("the backup step, whose command was running, is %+v; want done", r)
	}
	for i, r := range j.Steps {
		if r.ID != steps.StepBackup && r.State == steps.StepStarted {
			t.Errorf("step %d (%s) was started after the interrupt", i+1, r.ID)
		}
	}
	model, err := h.m.Model()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range model.History {
		if len(c.Argv) > 1 && c.Argv[0] == "bectl" && c.Argv[1] == "create" && c.Exit != 0 {
			t.Errorf("the running command was stopped: %v exit %d", c.Argv, c.Exit)
		}
	}
	code, log := h.runUpgrade(nil)
	h.assertDone(code, log)
	if got := h.journal().RunID; got != runID {
		t.Errorf("apply after the interrupt ran %s, not the interrupted run %s", got, runID)
	}
}
