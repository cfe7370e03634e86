// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestEN2518From13: EN-25:18 matters for every upgrade to 15 from below
// 15, 13.x included. Without it plan and apply block; 13.5 gets the fix
// from its patches, so a patch run unblocks the upgrade.
func TestEN2518From13(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "13.5-RELEASE-p3", ESPs: "all", Updates: map[string]int{"13.5-RELEASE": 6}})
	code, out := h.zupgrade(nil, "plan", "--to", "15.0-RELEASE")
	if code != ExitBlocked || !strings.Contains(out, "[block] EN-25:18") || !strings.Contains(out, "apply patches to 13.5-RELEASE first") {
		t.Fatalf("plan 13.5 -> 15.0 without EN-25:18: exit %d\n%s", code, out)
	}
	code, log := h.runUpgrade(nil)
	h.assertDone(code, log)
	code, log = h.runUpgrade(nil, "--to", "15.0-RELEASE")
	h.assertDone(code, log)
	h.assertBootsEverywhere("15.0-RELEASE")
}

// TestEN2518NeverShipped: 14.1 and 14.2 were past their end of life when
// EN-25:18 came out, so their patches do not bring it: the plan says to go
// to 14.3 first instead of patching.
func TestEN2518NeverShipped(t *testing.T) {
	for _, rel := range []string{"14.2-RELEASE-p3", "13.4-RELEASE"} {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, simhost.Spec{Preset: "bios", Release: rel})
			code, out := h.zupgrade(nil, "plan", "--to", "15.0-RELEASE")
			if code != ExitBlocked || !strings.Contains(out, "[block] EN-25:18") || !strings.Contains(out, "zupgrade apply --to 14.3-RELEASE") {
				t.Fatalf("plan %s -> 15.0: exit %d\n%s", rel, code, out)
			}
			if strings.Contains(out, "apply patches to") {
				t.Errorf("the plan offers patches, which never bring EN-25:18 to %s:\n%s", rel, out)
			}
		})
	}
}

// TestTooOldToRun: Go 1.26 binaries run on FreeBSD 12 and later only. On an
// older host plan still describes the upgrade, blocked with that reason,
// and apply refuses without touching the host.
func TestTooOldToRun(t *testing.T) {
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "11.4-RELEASE", Disks: 2})
	code, out := h.zupgrade(nil, "plan", "--to", "12.4-RELEASE")
	if code != ExitBlocked || !strings.Contains(out, "[block] zupgrade can run on this release") || !strings.Contains(out, "FreeBSD 12.0 or later") {
		t.Fatalf("plan on 11.4: exit %d\n%s", code, out)
	}
	before := h.summary()
	code, out = h.zupgrade(nil, "apply", "--to", "12.4-RELEASE")
	if code != ExitBlocked || !strings.Contains(out, "FreeBSD 12.0 or later") {
		t.Fatalf("apply on 11.4: exit %d\n%s", code, out)
	}
	if h.journal() != nil {
		t.Error("a refused apply left a journal")
	}
	if after := h.summary(); after != before {
		t.Errorf("a refused apply changed the host:\n%s\nthen\n%s", before, after)
	}
}

// TestNothingToDo: apply with no patches published changes nothing on the
// host, however often it runs: no backup boot environment each time, exit 0.
func TestNothingToDo(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p6", Updates: map[string]int{"14.3-RELEASE": 6}})
	bes := h.sh("bectl", "list", "-H")
	for i := 0; i < 3; i++ {
		code, log := h.runUpgrade(nil)
		h.assertDone(code, log)
		if bootCount(log) != 0 {
			t.Fatalf("run %d rebooted:\n%s", i+1, log)
		}
	}
	if got := h.sh("bectl", "list", "-H"); got != bes {
		t.Errorf("three runs with nothing to do changed the boot environments:\n%s\nthen\n%s", bes, got)
	}
}
