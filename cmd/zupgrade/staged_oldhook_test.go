// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestStagedOldBootEnvHookOff: the boot hook was armed in the old boot
// environment before the new one was copied from it, and stays enabled
// there after the trial succeeded. The first time the old boot
// environment boots again (here once, with bectl activate -t), its hook
// finds the run ended and turns itself off; it does not run at its boots
// after that.
func TestStagedOldBootEnvHookOff(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newStagedHost(t)
	code, log := h.runUpgrade(nil, "--to", stagedTo)
	h.assertDone(code, log)

	bootOld := func() *simhost.BootReport {
		t.Helper()
		h.sh("bectl", "activate", "-t", "default")
		h.sh("shutdown", "-r", "now")
		rep := h.boot(simhost.BootOptions{})
		h.wait()
		if rep.BE != "zroot/ROOT/default" {
			t.Fatalf("bectl activate -t default, then a reboot, booted %s", rep.BE)
		}
		return rep
	}
	hookRan := func(rep *simhost.BootReport) (string, bool) {
		for _, hk := range rep.Hooks {
			if strings.HasSuffix(hk.Script, "/zupgrade") {
				return hk.Output, true
			}
		}
		return "", false
	}
	rep := bootOld()
	if out, ran := hookRan(rep); !ran || !strings.Contains(out, "turns itself off") {
		t.Errorf("the old boot environment's hook at its first boot after the run (ran %v):\n%s", ran, out)
	}
	if list := h.sh("service", "-e"); strings.Contains(list, "/zupgrade\n") {
		t.Errorf("the hook is still enabled in the old boot environment:\n%s", list)
	}
	if j := h.journal(); j.Status != "done" {
		t.Errorf("the old boot environment's boot changed the run: %s: %s", j.Status, j.Message)
	}
	h.sh("shutdown", "-r", "now")
	if rep := h.boot(simhost.BootOptions{}); rep.BE != "zroot/ROOT/"+stagedTo {
		t.Fatalf("the boot after the one-time boot of default booted %s", rep.BE)
	}
	if out, ran := hookRan(bootOld()); ran {
		t.Errorf("the old boot environment's hook ran again:\n%s", out)
	}
}
