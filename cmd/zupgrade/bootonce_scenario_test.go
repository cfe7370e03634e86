// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
)

// TestStagedCutAfterOneTimeActivation: the power fails just after bectl
// activate -t armed the trial (before the journal says so). The boot
// after the cut takes the one-time activation and is the trial; the run
// it resumes must not arm it again, or the reboot that ends a failed
// trial (--auto-revert) boots the failed boot environment once more
// instead of the old one. Two boots: the trial and the fallback; and no
// one-time activation is left armed.
func TestStagedCutAfterOneTimeActivation(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newStagedHost(t)
	args := []string{"--to", to, "--health-cmd", "cat /zroot/health-ok", "--auto-revert"}
	var log strings.Builder
	_, out := h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + steps.StepStageActivate + ":" + string(steps.AfterRun)}, args...)
	log.WriteString(out)
	if list := h.sh("bectl", "list", "-H"); !strings.Contains(list, to+"\tT\t") {
		t.Fatalf("the crash point after bectl activate -t was not reached:\n%s\n%s", list, log.String())
	}
	h.cutPowerAfterKill(&log)
	code, out := h.runUpgrade(nil, args...)
	log.WriteString(out)
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log.String())
	}
	if n := bootCount(log.String()); n != 2 {
		t.Errorf("%d boots, want 2 (the trial the cut left armed, and the fallback):\n%s", n, log.String())
	}
	if list := h.sh("bectl", "list", "-H"); !strings.Contains(list, "default\tNR\t/\t") || strings.Contains(list, "T\t") {
		t.Errorf("after the fallback the old boot environment is not the running and next one, or a one-time activation is armed:\n%s", list)
	}
	if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat("14.3-RELEASE-p3\n", 3) {
		t.Errorf("after the fallback freebsd-version -kru = %q", got)
	}
}
