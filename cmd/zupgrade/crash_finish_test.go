// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestFinishInterrupted interrupts the end of a run half way through
// removing the boot hook: the power fails once sysrc -x has removed
// zupgrade_enable (sysrc -x of a variable already gone fails, as in
// usr.sbin/sysrc/sysrc), or zupgrade is killed while rm removes the rc.d
// script after it. Finishing again must succeed and leave no boot hook.
func TestFinishInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts; not in -short")
	}
	tests := []struct {
		name  string
		cmd   []string
		fault string
	}{
		{"power cut during sysrc -x", []string{"sysrc", "-x", "zupgrade_enable"}, faultPower},
		{"kill during rm of the rc.d script", []string{"rm", "-f", "/usr/local/etc/rc.d/zupgrade"}, faultKill},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 2})
			var log strings.Builder
			_, out := h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + steps.StepFinish + ":" + string(steps.BeforeStart)}, "--to", "14.2-RELEASE")
			log.WriteString(out)
			if j := h.journal(); j.Status == steps.StatusDone || j.Current() != nil {
				t.Fatalf("the run did not stop before its end (%s, at %v):\n%s", j.Status, j.Current(), out)
			}
			f := simhost.Fault{Command: tt.cmd[0], Args: strings.Join(tt.cmd[1:], " "), Action: simhost.FaultPowerCut}
			if tt.fault == faultKill {
				f.Action, f.Message = simhost.FaultHang, hangMessage
			}
			if err := h.m.AddFault(f); err != nil {
				t.Fatal(err)
			}
			orphan := 0
			if tt.fault == faultKill {
				orphan = h.killMidCommand(tt.cmd, &log)
			} else {
				h.powerCutMidCommand(steps.StepFinish, tt.cmd, &log)
			}
			code, out := h.runUpgrade(nil)
			log.WriteString(out)
			h.assertDone(code, log.String())
			if orphan != 0 {
				h.assertNothingBeside(orphan, log.String())
				if !strings.Contains(log.String(), "which a zupgrade that was killed left running") {
					t.Errorf("apply did not say that it stopped the command left running:\n%s", log.String())
				}
			}
			h.assertBootsEverywhere("14.2-RELEASE")
			var stdout, stderr bytes.Buffer
			if code := h.m.Exec(context.Background(), []string{"sysrc", "-n", "zupgrade_enable"}, nil, &stdout, &stderr, nil); code == 0 {
				t.Errorf("zupgrade_enable is still set: %q", stdout.String())
			}
		})
	}
}
