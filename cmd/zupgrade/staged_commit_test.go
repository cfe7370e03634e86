// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestStagedPowerCutBeforeCommit: the trial passed its health checks, and
// the power failed before zupgrade kept the new boot environment. The
// one-time activation was spent, so the next boot is the old boot
// environment's: the trial is over without being kept, and the run ends
// there saying so; it does not keep, from the old boot environment, a
// boot environment that is not running.
func TestStagedPowerCutBeforeCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newStagedHost(t)
	code, out := h.zupgrade(nil, "apply", "--to", stagedTo)
	if code != 0 || !h.down() {
		t.Fatalf("apply: exit %d, down %v\n%s", code, h.down(), out)
	}
	h.boot(simhost.BootOptions{Env: []string{"ZUPGRADE_CRASH_AT=commit-boot-env:before-start"}})
	h.wait()
	if j := h.journal(); j.Record("trial-health").State != "done" || j.Record("commit-boot-env").State != "pending" {
		t.Fatalf("the resume in the trial was not stopped before the commit: %s: %s", j.Status, j.Message)
	}
	if err := h.m.PowerCut(); err != nil {
		t.Fatal(err)
	}
	rep := h.boot(simhost.BootOptions{})
	h.wait()
	if rep.BE != "zroot/ROOT/default" {
		t.Fatalf("the boot after the power cut booted %s", rep.BE)
	}
	j := h.journal()
	if !j.FellBack || !strings.Contains(j.Message, "trial of "+stagedTo+" failed: it passed its health checks, but the host went down before zupgrade kept it") {
		t.Errorf("journal in the old boot environment: %s (fell back %v): %s", j.Status, j.FellBack, j.Message)
	}
	h.assertRunsOld()
}
