// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestApplyAtTarget: apply --to the release the host runs already has
// nothing to do: exit 0, saying so, with no journal, no boot environment
// and nothing changed on the host.
func TestApplyAtTarget(t *testing.T) {
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.2-RELEASE-p1"})
	before := h.summary()
	bes := h.sh("bectl", "list", "-H")
	code, out := h.zupgradeHere(nil, "apply", "--to", "14.2-RELEASE")
	if code != ExitOK || !strings.Contains(out, "nothing to do: the host runs 14.2-RELEASE-p1 already") {
		t.Fatalf("apply --to 14.2-RELEASE on 14.2-RELEASE-p1: exit %d\n%s", code, out)
	}
	if j := h.journal(); j != nil {
		t.Errorf("apply with nothing to do left a run: %s", j.Status)
	}
	if got := h.sh("bectl", "list", "-H"); got != bes {
		t.Errorf("apply with nothing to do changed the boot environments:\n%s\nthen\n%s", bes, got)
	}
	if after := h.summary(); after != before {
		t.Errorf("apply with nothing to do changed the host:\n%s\nthen\n%s", before, after)
	}
	if code, out := h.zupgrade(nil, "status"); code != 0 || !strings.Contains(out, "no zupgrade run") {
		t.Errorf("status after apply with nothing to do: exit %d\n%s", code, out)
	}
}

// TestReleaseTargetsChecked: a target that names no release FreeBSD
// published is bad input (exit 2) for plan and apply alike, whatever the
// host, with the reason; one the host cannot go to (older) is a blocked
// plan (exit 4). Nothing is left behind.
func TestReleaseTargetsChecked(t *testing.T) {
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.2-RELEASE"})
	for _, c := range []struct {
		to   string
		code int
		why  string
	}{
		{"99.0-RELEASE", ExitUsage, "it knows releases up to 15.x"},
		{"13.6-RELEASE", ExitUsage, "the 13 branch ended with 13.5-RELEASE"},
		{"14.2-STABLE", ExitBlocked, "freebsd-update only publishes RELEASE, RC, BETA and ALPHA builds"},
		{"fourteen", ExitUsage, "want MAJOR.MINOR-BRANCH"},
		{"14.1-RELEASE", ExitBlocked, "older than the running 14.2-RELEASE"},
	} {
		for _, cmd := range []string{"plan", "apply"} {
			code, out := h.zupgradeHere(nil, cmd, "--to", c.to)
			if code != c.code || !strings.Contains(out, c.why) {
				t.Errorf("%s --to %s: exit %d, want %d saying %q:\n%s", cmd, c.to, code, c.code, c.why, out)
			}
		}
	}
	if j := h.journal(); j != nil {
		t.Errorf("a refused target left a run: %s", j.Status)
	}
}
