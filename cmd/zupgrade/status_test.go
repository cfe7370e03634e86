// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestStatusLiveInterruptedRestored: status tells a run a zupgrade runs now
// (with its pid and boot environment) from one a signal interrupted and
// from one a rollback restored.
func TestStatusLiveInterruptedRestored(t *testing.T) {
	if testing.Short() {
		t.Skip("a run on a simulated host; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p2", Updates: map[string]int{"14.3-RELEASE": 6}})
	// freebsd-update install, after the backup, hangs until it is killed.
	if err := h.m.AddFault(simhost.Fault{Command: "freebsd-update", Args: "install", Action: simhost.FaultHang, Message: "install-hangs"}); err != nil {
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
	sc := bufio.NewScanner(r)
	waitFor := func(s string) {
		t.Helper()
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				return
			}
		}
		t.Fatalf("apply ended without printing %q", s)
	}
	waitFor("install-hangs")

	code, out := h.zupgrade(nil, "status")
	live := "live: zupgrade pid " + strconv.Itoa(cmd.Process.Pid) + " since "
	if code != 0 || !strings.Contains(out, live) || !strings.Contains(out, "boot environment zroot/ROOT/default runs it now") {
		t.Fatalf("status during the run: exit %d, want %q:\n%s", code, live, out)
	}
	code, out = h.zupgrade(nil, "status", "--json")
	var doc struct {
		Status string           `json:"status"`
		Live   bool             `json:"live"`
		Owner  *steps.LockOwner `json:"lock_owner"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || !doc.Live || doc.Owner == nil || doc.Owner.Pid != cmd.Process.Pid {
		t.Fatalf("status --json during the run: exit %d, %v:\n%s", code, err, out)
	}

	// Interrupted: SIGINT, then the hung command ends (killed by someone
	// else: apply leaves it alone).
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor("stopping at the next safe point")
	model, err := h.m.Model()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range model.History {
		if c.Waiting && c.Pid > 0 {
			syscall.Kill(c.Pid, syscall.SIGTERM)
		}
	}
	for sc.Scan() {
	}
	if err := p.Wait(); err == nil || err.(*exec.ExitError).ExitCode() != ExitInterrupted {
		t.Fatalf("interrupted apply: %v, want exit %d", err, ExitInterrupted)
	}
	code, out = h.zupgrade(nil, "status")
	if code != 0 || !strings.Contains(out, ", interrupted\n") || strings.Contains(out, "live:") || !strings.Contains(out, "zupgrade apply resumes the run") {
		t.Fatalf("status after the interrupt: exit %d:\n%s", code, out)
	}

	// Restored: rollback activates the backup made before the install.
	if code, out := h.zupgrade(nil, "rollback", "--no-reboot"); code != ExitCheckpoint {
		t.Fatalf("rollback --no-reboot: exit %d:\n%s", code, out)
	}
	code, out = h.zupgrade(nil, "status")
	if code != 0 || !strings.Contains(out, ", rolled-back\n") || !strings.Contains(out, "rolled back to boot environment zupgrade-") || strings.Contains(out, "live:") {
		t.Fatalf("status after the rollback: exit %d:\n%s", code, out)
	}
}
