// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// watchdogSpec is stagedSpec on hardware with a watchdog driver.
var watchdogSpec = func() simhost.Spec { s := stagedSpec; s.Watchdog = "ichwd"; return s }()

// TestStagedTrialHangResetByWatchdog: the trial boot hangs in rc before
// zupgrade's boot hook (a service that never comes up): the deadline
// armed early in the trial's rc (watchdog -t) runs out, the watchdog
// resets the host, the old boot environment boots (the one-time
// activation is spent) and its hook ends the run saying the trial never
// reached the health checks.
func TestStagedTrialHangResetByWatchdog(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, watchdogSpec)
	h.state = h.m.HostPath("/zroot/zupgrade")
	code, out := h.zupgrade(nil, "plan", "--to", stagedTo, "--trial-deadline", "20m")
	if code != 0 || !strings.Contains(out, "watchdog -t 1200") || !strings.Contains(out, "no watchdog driver") {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	code, out = h.zupgrade(nil, "apply", "--to", stagedTo, "--trial-deadline", "20m")
	if code != 0 || !h.down() {
		t.Fatalf("apply: exit %d, down %v\n%s", code, h.down(), out)
	}
	rep := h.boot(simhost.BootOptions{HangIn: stagedTo, HangBefore: "zupgrade"})
	console := strings.Join(rep.Console, "\n")
	if rep.BE != "zroot/ROOT/default" || !strings.Contains(console, "watchdog resets the machine") {
		t.Fatalf("the hung trial: booted %v into %s: %s\n%s", rep.Booted, rep.BE, rep.Reason, console)
	}
	h.wait()
	j := h.journal()
	if !j.FellBack || !strings.Contains(j.Message, "trial of "+stagedTo+" failed: the trial boot never reached zupgrade's health checks") {
		t.Errorf("journal after the watchdog's reset: %s: %s", j.Status, j.Message)
	}
	h.assertRunsOld()
}

// TestStagedTrialHangWithoutWatchdog: where no watchdog driver takes the
// deadline, the hung trial stays hung until someone resets the host, and
// the trial's rc says so on the console.
func TestStagedTrialHangWithoutWatchdog(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newStagedHost(t)
	code, out := h.zupgrade(nil, "apply", "--to", stagedTo)
	if code != 0 || !h.down() {
		t.Fatalf("apply: exit %d, down %v\n%s", code, h.down(), out)
	}
	rep, err := h.m.Boot(simhost.BootOptions{HangIn: stagedTo, HangBefore: "zupgrade"})
	if err != nil {
		t.Fatal(err)
	}
	var said bool
	for _, hk := range rep.Hooks {
		said = said || strings.HasSuffix(hk.Script, "/zupgrade_trial") && strings.Contains(hk.Output, "no watchdog took the deadline")
	}
	if rep.Booted || rep.State != "hung" || !said {
		t.Fatalf("the hung trial without a watchdog: booted %v, %s: %s\n%+v", rep.Booted, rep.State, rep.Reason, rep.Hooks)
	}
	h.boot(simhost.BootOptions{}) // the admin's reset
	h.wait()
	if j := h.journal(); !j.FellBack {
		t.Errorf("journal after the reset: %s: %s", j.Status, j.Message)
	}
}

// TestStagedTrialDeadlineDisarmed: a healthy trial disarms the watchdog
// before it keeps the new boot environment, and leaves nothing of the
// deadline there to arm it again at a later boot.
func TestStagedTrialDeadlineDisarmed(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, watchdogSpec)
	h.state = h.m.HostPath("/zroot/zupgrade")
	code, log := h.runUpgrade(nil, "--to", stagedTo)
	h.assertDone(code, log)
	if !strings.Contains(log, "watchdog -t 0") {
		t.Errorf("the run did not disarm the watchdog:\n%s", log)
	}
	model, err := h.m.Model()
	if err != nil {
		t.Fatal(err)
	}
	if model.Running.Watchdog != 0 {
		t.Errorf("the watchdog is still armed (%s) after the run kept %s", model.Running.Watchdog, stagedTo)
	}
	for _, p := range []string{"/usr/local/etc/rc.d/zupgrade_trial", "/etc/rc.conf.d/zupgrade_trial"} {
		if _, err := os.Stat(h.m.HostPath(p)); err == nil {
			t.Errorf("%s is left in %s", p, stagedTo)
		}
	}
	// A later boot of the kept boot environment arms nothing.
	h.boot(simhost.BootOptions{})
	if model, err := h.m.Model(); err != nil || model.Running.Watchdog != 0 {
		t.Errorf("a later boot armed the watchdog (%v)", err)
	}
}
