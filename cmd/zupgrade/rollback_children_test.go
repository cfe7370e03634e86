// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestRollbackStopsLeftCommand: zupgrade is killed with SIGKILL while
// freebsd-update install runs; the command outlives it, as on a real host
// (the kernel hands it to init). rollback, as apply does, stops that
// command's process group (SIGTERM, then SIGKILL) and says so before it
// activates the backup: no bectl activate runs beside an install.
func TestRollbackStopsLeftCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, patchSpec)
	install := []string{"freebsd-update", "--not-running-from-cron", "install"}
	if err := h.m.AddFault(simhost.Fault{Command: install[0], Args: strings.Join(install[1:], " "), Action: simhost.FaultHang, Message: hangMessage}); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	orphan := h.killMidCommand(install, &log)
	if r := h.journal().Record(steps.StepBackup); r == nil || r.State != steps.StepDone {
		t.Fatalf("the run was killed before its backup:\n%s", log.String())
	}

	code, out := h.zupgrade(nil, "rollback", "--no-reboot")
	log.WriteString(out)
	if code != ExitCheckpoint {
		t.Fatalf("rollback --no-reboot: exit %d, want %d:\n%s", code, ExitCheckpoint, log.String())
	}
	if !strings.Contains(out, "which a zupgrade that was killed left running") {
		t.Errorf("rollback did not say that it stopped the command left running:\n%s", out)
	}
	h.assertNothingBeside(orphan, log.String())
	if j := h.journal(); j.Status != steps.StatusRolledBack {
		t.Errorf("journal after rollback: %s (%s)", j.Status, j.Message)
	}
}
