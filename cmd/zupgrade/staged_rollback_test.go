// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// stagedTo is the release the staged scenarios upgrade to.
const stagedTo = "15.0-RELEASE"

// assertRunsOld checks that the host runs the old boot environment and
// release, that it is also the next boot's, and that the staged one is
// no longer activated for a boot.
func (h *testHost) assertRunsOld() {
	h.t.Helper()
	if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat("14.3-RELEASE-p3\n", 3) {
		h.t.Errorf("freebsd-version -kru = %q", got)
	}
	list := h.sh("bectl", "list", "-H")
	if !strings.Contains(list, "default\tNR\t/\t") || !strings.Contains(list, stagedTo+"\t-\t") {
		h.t.Errorf("bectl list -H: default is not the running and next boot environment, or %s is still activated:\n%s", stagedTo, list)
	}
}

// assertRebootsIntoOld boots the host after a rollback and checks that it
// comes up in the old boot environment with the run rolled back.
func (h *testHost) assertRebootsIntoOld() {
	h.t.Helper()
	rep := h.boot(simhost.BootOptions{})
	h.wait()
	if rep.BE != "zroot/ROOT/default" {
		h.t.Fatalf("after rollback the host booted %s", rep.BE)
	}
	h.assertRunsOld()
	if j := h.journal(); j.Status != "rolled-back" {
		h.t.Errorf("journal after rollback: %s: %s", j.Status, j.Message)
	}
}

// TestStagedRollbackBeforeTrial: a staged run stopped at its trial
// reboot (--no-reboot) has activated the new boot environment for the
// next boot; rollback takes that one-time activation back, so that the
// host stays on the boot environment it runs, with nothing to reboot.
func TestStagedRollbackBeforeTrial(t *testing.T) {
	h := stagedAtTrialReboot(t)
	if list := h.sh("bectl", "list", "-H"); !strings.Contains(list, stagedTo+"\tT\t") {
		t.Fatalf("the staged boot environment is not activated for the next boot:\n%s", list)
	}
	code, out := h.zupgrade(nil, "rollback")
	if code != 0 || !strings.Contains(out, "bectl activate -T") || !strings.Contains(out, "default") {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	if h.down() {
		t.Fatal("rollback rebooted a host that runs the boot environment it returns to")
	}
	h.assertRunsOld()
	if j := h.journal(); j.Status != "rolled-back" {
		t.Errorf("journal after rollback: %s: %s", j.Status, j.Message)
	}
	rep := h.boot(simhost.BootOptions{})
	h.wait()
	if rep.BE != "zroot/ROOT/default" {
		t.Errorf("the boot after rollback booted %s", rep.BE)
	}
	if j := h.journal(); j.Status != "rolled-back" {
		t.Errorf("journal after the boot: %s: %s", j.Status, j.Message)
	}
}

// TestStagedRollbackInTrial: in a trial whose health check failed (the
// run stops there, without --auto-revert), rollback makes the old boot
// environment the one that boots and reboots into it.
func TestStagedRollbackInTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newStagedHost(t)
	code, log := h.runUpgrade(nil, "--to", stagedTo, "--health-cmd", "cat /zroot/health-ok")
	if code != ExitFailed || !strings.Contains(h.sh("bectl", "list", "-H"), stagedTo+"\tN\t/\t") {
		t.Fatalf("the run did not stop in a failed trial: exit %d\n%s", code, log)
	}
	code, out := h.zupgrade(nil, "rollback", "--no-reboot")
	if code != ExitCheckpoint || !strings.Contains(out, "bectl activate default") {
		t.Fatalf("rollback --no-reboot in the trial: exit %d\n%s", code, out)
	}
	h.assertRebootsIntoOld()
}

// TestStagedRollbackAfterCommit: once the new boot environment is kept,
// rollback activates the old one again for good (bectl promotes it back)
// and reboots into it.
func TestStagedRollbackAfterCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newStagedHost(t)
	code, log := h.runUpgrade(nil, "--to", stagedTo)
	h.assertDone(code, log)
	code, out := h.zupgrade(nil, "rollback")
	if code != 0 || !strings.Contains(out, "bectl activate default") || !h.down() {
		t.Fatalf("rollback after the commit: exit %d, down %v\n%s", code, h.down(), out)
	}
	h.assertRebootsIntoOld()
}

// TestStagedApplyAfterFailedTrial: back in the old boot environment after
// a failed trial, apply says that the trial failed and that the run is
// over, and changes nothing; rollback closes the run there without a
// reboot, after which apply plans a new run (blocked until the failed
// boot environment is destroyed), and with it gone starts one.
func TestStagedApplyAfterFailedTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newStagedHost(t)
	code, log := h.runUpgrade(nil, "--to", stagedTo, "--health-cmd", "cat /zroot/health-ok", "--auto-revert")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	before := h.journal()
	for _, args := range [][]string{{"apply"}, {"apply", "--to", stagedTo}, {"apply", "--resume"}} {
		code, out := h.zupgrade(nil, args...)
		if code != ExitFailed || !strings.Contains(out, "trial of "+stagedTo+" failed") || !strings.Contains(out, "zupgrade rollback") || strings.Contains(out, "run zupgrade apply again") {
			t.Errorf("%v after the failed trial: exit %d\n%s", args, code, out)
		}
		if j := h.journal(); j.RunID != before.RunID || j.Status != before.Status || j.Message != before.Message || !j.Updated.Equal(before.Updated) {
			t.Errorf("%v changed the journal: %s: %s", args, j.Status, j.Message)
		}
		if h.down() {
			t.Fatalf("%v rebooted the host", args)
		}
	}
	if code, out := h.zupgrade(nil, "status"); code != 0 || !strings.Contains(out, "trial of "+stagedTo+" failed") || !strings.Contains(out, "the run is over: zupgrade rollback closes it") {
		t.Errorf("status after the failed trial: exit %d\n%s", code, out)
	}
	code, out := h.zupgrade(nil, "rollback")
	if code != 0 || h.down() || !strings.Contains(out, "default") {
		t.Fatalf("rollback after the failed trial: exit %d, down %v\n%s", code, h.down(), out)
	}
	h.assertRunsOld()
	if j := h.journal(); j.Status != "rolled-back" || j.RunID != before.RunID {
		t.Errorf("journal after rollback: %s %s: %s", j.RunID, j.Status, j.Message)
	}
	code, out = h.zupgrade(nil, "apply", "--to", stagedTo)
	if code != ExitBlocked || !strings.Contains(out, "bectl destroy "+stagedTo) {
		t.Fatalf("apply with the failed boot environment still there: exit %d\n%s", code, out)
	}
	h.sh("bectl", "destroy", stagedTo)
	code, out = h.zupgrade(nil, "apply", "--to", stagedTo, "--no-reboot")
	if j := h.journal(); code != ExitCheckpoint || j.Status != "checkpoint" || j.Record("trial-health").State != "pending" {
		t.Errorf("a new run after rollback: exit %d, %s: %s\n%s", code, j.Status, j.Message, out)
	}
}

// TestStagedRollbackBeforeBootEnv: a staged run killed before it made its
// boot environment is rolled back by turning its boot hook off; there is
// nothing to activate, and rollback does not claim to keep a boot
// environment that is not there.
func TestStagedRollbackBeforeBootEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newStagedHost(t)
	h.zupgrade([]string{"ZUPGRADE_CRASH_AT=stage-boot-env:before-start"}, "apply", "--to", stagedTo)
	if j := h.journal(); j == nil || j.Record("stage-boot-env").State != "pending" {
		t.Fatalf("the run was not stopped before it made its boot environment: %+v", j)
	}
	code, out := h.zupgrade(nil, "rollback")
	if code != 0 || h.down() || !strings.Contains(out, "the run had not made "+stagedTo+" yet") || strings.Contains(out, "bectl activate") {
		t.Fatalf("rollback: exit %d, down %v\n%s", code, h.down(), out)
	}
	if j := h.journal(); j.Status != "rolled-back" {
		t.Errorf("journal after rollback: %s: %s", j.Status, j.Message)
	}
	if list := h.sh("bectl", "list", "-H"); strings.Contains(list, stagedTo) {
		t.Errorf("bectl list -H after rollback:\n%s", list)
	}
}

// stagedAtTrialReboot runs a staged apply on a host of its own (a whole
// run, so not in -short; in parallel) up to its trial reboot, which
// --no-reboot leaves to the admin, and returns the host.
func stagedAtTrialReboot(t *testing.T) *testHost {
	t.Helper()
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newStagedHost(t)
	code, out := h.zupgrade(nil, "apply", "--to", stagedTo, "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply --no-reboot: exit %d\n%s", code, out)
	}
	return h
}
