// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// markDone edits the journal as a hostile or careless hand would: the
// step says done.
func (h *testHost) markDone(id string) {
	h.t.Helper()
	j := h.journal()
	j.Record(id).State = steps.StepDone
	if err := (steps.Store{Dir: h.state}).Save(j); err != nil {
		h.t.Fatal(err)
	}
}

// TestDoneStepRechecked: a journal whose bootcode step says done while the
// disks hold the old boot code is not trusted: the step runs again before
// the host reboots into the new kernel. One whose backup says done while
// the backup boot environment is gone stops the run, saying so.
func TestDoneStepRechecked(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Run("bootcode", func(t *testing.T) {
		t.Parallel()
		h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 2})
		_, log := h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + steps.StepBootcode + ":" + string(steps.AfterStarted)}, "--to", "14.2-RELEASE")
		h.markDone(steps.StepBootcode)
		_, out := h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + steps.StepRebootKernel + ":" + string(steps.BeforeStart)})
		log += out
		code, err := os.ReadFile(h.m.HostPath("/boot/gptzfsboot"))
		if err != nil {
			t.Fatal(err)
		}
		model, err := h.m.Model()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range model.Disks {
			for _, p := range d.Partitions {
				if p.Type == "freebsd-boot" && !bytes.HasPrefix(p.Data, code) {
					t.Errorf("%s p%d does not hold the new gptzfsboot before the reboot:\n%s", d.Name, p.Index, log)
				}
			}
		}
		c, out := h.runUpgrade(nil)
		h.assertDone(c, log+out)
		h.assertBootsEverywhere("14.2-RELEASE")
	})
	t.Run("backup", func(t *testing.T) {
		t.Parallel()
		h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 2})
		h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + steps.StepUpgrade + ":" + string(steps.BeforeStart)}, "--to", "14.2-RELEASE")
		if r := h.journal().Record(steps.StepBackup); r.State != steps.StepDone {
			t.Fatalf("backup %s", r.State)
		}
		for _, l := range strings.Split(h.sh("bectl", "list", "-H"), "\n") {
			if f := strings.Fields(l); len(f) > 0 && backupName.MatchString(f[0]) {
				h.sh("bectl", "destroy", f[0])
			}
		}
		code, out := h.zupgrade(nil, "apply")
		if code != ExitFailed || !strings.Contains(out, "the journal says it is done") {
			t.Fatalf("apply with the backup gone: exit %d, want %d and the reason:\n%s", code, ExitFailed, out)
		}
		if r := h.journal().Record(steps.StepUpgrade); r.State != steps.StepPending {
			t.Errorf("the upgrade step went on without a backup: %s", r.State)
		}
	})
}
