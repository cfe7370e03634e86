// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestStagedTrialSaysWhetherWatchdogArmed: the health step of the trial
// learns from what the trial's rc.d script left whether watchdog -t took
// the deadline at the trial boot, and the journal (so zupgrade status)
// says so: taken on a host with a watchdog driver, not taken where
// watchdog -t fails (no driver: /dev/fido answers EOPNOTSUPP,
// sys/dev/watchdog/watchdog.c).
func TestStagedTrialSaysWhetherWatchdogArmed(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	for _, c := range []struct {
		name string
		spec simhost.Spec
		want string
	}{
		{"driver", watchdogSpec, "the watchdog took the trial's deadline of 15m0s at its boot"},
		{"no driver", stagedSpec, "no watchdog took the trial's deadline at its boot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, c.spec)
			h.state = h.m.HostPath("/zroot/zupgrade")
			// The boots run every rc.d script, the trial's among them
			// (bootHere would run the resumed run alone).
			h.process = true
			code, log := h.runUpgrade(nil, "--to", stagedTo)
			h.assertDone(code, log)
			var note string
			for _, r := range h.journal().Steps {
				if r.ID == steps.StepTrialHealth {
					note = r.Note
				}
			}
			if !strings.Contains(note, c.want) {
				t.Errorf("the trial-health step's note: %q, want %q", note, c.want)
			}
			if _, out := h.zupgrade(nil, "status"); !strings.Contains(out, c.want) {
				t.Errorf("status does not say %q:\n%s", c.want, out)
			}
		})
	}
}
