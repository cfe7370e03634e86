// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
)

// rollbackCommandsFailed returns the commands of a rollback's --json
// output that exited non-zero, each with its exit status.
func rollbackCommandsFailed(t *testing.T, out string) []string {
	t.Helper()
	var failed []string
	for _, line := range strings.Split(out, "\n") {
		var ev struct {
			Type string   `json:"type"`
			Argv []string `json:"argv"`
			Exit *int     `json:"exit"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Type != "command-ended" {
			continue
		}
		if ev.Exit == nil || *ev.Exit != 0 {
			failed = append(failed, strings.Join(ev.Argv, " "))
		}
	}
	return failed
}

// TestRollbackHookOffRunsNoFailingSysrc: rollback turns the boot hook
// off by removing zupgrade_enable only where it is set: sysrc -x of a
// variable that is set nowhere fails with "unknown variable" (and -i
// only silences that: usr.sbin/sysrc/sysrc, the argument loop), so a
// rollback that removed it blindly would show failed commands, on every
// rollback (the run enables the hook in /etc/rc.conf.d/zupgrade, not in
// /etc/rc.conf) and on a rollback resumed after the first one had
// removed it already.
func TestRollbackHookOffRunsNoFailingSysrc(t *testing.T) {
	h := stagedAtTrialReboot(t)
	if got := h.sh("sysrc", "-f", "/etc/rc.conf.d/zupgrade", "-n", "zupgrade_enable"); got != "YES\n" {
		t.Fatalf("the run did not enable its boot hook in /etc/rc.conf.d/zupgrade: %q", got)
	}
	before := h.journal()
	code, out := h.zupgrade(nil, "rollback", "--json")
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	if failed := rollbackCommandsFailed(t, out); len(failed) > 0 || strings.Contains(out, "unknown variable") {
		t.Errorf("rollback ran commands that failed: %q\n%s", failed, out)
	}
	if !strings.Contains(out, `"sysrc","-f","/etc/rc.conf.d/zupgrade","-x","zupgrade_enable"`) {
		t.Errorf("rollback did not remove zupgrade_enable from /etc/rc.conf.d/zupgrade:\n%s", out)
	}
	if r := h.sh("cat", "/etc/rc.conf.d/zupgrade"); strings.Contains(r, "zupgrade_enable") {
		t.Errorf("the boot hook is still enabled after rollback:\n%s", r)
	}
	h.assertRunsOld()

	// Rolled back a second time (as after a power cut once the hook was
	// off): nothing to remove, nothing fails.
	j := h.journal()
	j.Status, j.Message = before.Status, before.Message
	if err := (steps.Store{Dir: h.state}).Save(j); err != nil {
		t.Fatal(err)
	}
	code, out = h.zupgrade(nil, "rollback", "--json")
	if code != 0 {
		t.Fatalf("rollback again: exit %d\n%s", code, out)
	}
	if failed := rollbackCommandsFailed(t, out); len(failed) > 0 || strings.Contains(out, "unknown variable") {
		t.Errorf("rollback again ran commands that failed: %q\n%s", failed, out)
	}
}
