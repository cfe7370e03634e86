// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestBootHookOffWhereEnabledInRCConf: a boot hook still enabled after
// its run ended, by zupgrade_enable (and the state directory) in
// /etc/rc.conf, where earlier zupgrade versions enabled it, and nothing
// in /etc/rc.conf.d/zupgrade, turns
// itself off at the next boot, and says nothing on the console about the
// variables that are not set: sysrc fails an unset one with "unknown
// variable" unless given -i (usr.sbin/sysrc/sysrc, IGNORE_UNKNOWNS).
func TestBootHookOffWhereEnabledInRCConf(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, patchSpec)
	code, out := h.zupgrade(nil, "apply", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply --no-reboot: exit %d, want %d:\n%s", code, ExitCheckpoint, out)
	}
	h.boot(simhost.BootOptions{})
	h.wait()
	h.assertDone(0, "")

	// What an earlier zupgrade left: the script, enabled in /etc/rc.conf.
	if err := os.WriteFile(h.m.HostPath("/usr/local/etc/rc.d/zupgrade"), steps.RCScript("/usr/local"), 0o555); err != nil {
		t.Fatal(err)
	}
	h.sh("sysrc", "zupgrade_enable=YES", "zupgrade_state_dir="+h.state)
	h.sh("shutdown", "-r", "now")
	rep := h.boot(simhost.BootOptions{})
	h.wait()
	var hook *simhost.HookResult
	for i, hk := range rep.Hooks {
		if strings.HasSuffix(hk.Script, "/zupgrade") {
			hook = &rep.Hooks[i]
		}
	}
	if hook == nil {
		t.Fatalf("the hook enabled in /etc/rc.conf did not run at boot: %+v", rep.Hooks)
	}
	if !strings.Contains(hook.Output, "turns itself off") || strings.Contains(hook.Output, "unknown variable") {
		t.Errorf("the hook's output at boot:\n%s", hook.Output)
	}
	if list := h.sh("service", "-e"); strings.Contains(list, "/zupgrade\n") {
		t.Errorf("the hook is still enabled after it turned itself off:\n%s", list)
	}
	var o, e bytes.Buffer
	if code := h.m.Exec(context.Background(), []string{"sysrc", "-n", "zupgrade_enable"}, nil, &o, &e, nil); code == 0 {
		t.Errorf("/etc/rc.conf still sets zupgrade_enable: %s", o.String())
	}
	if rc := h.sh("cat", "/etc/rc.conf"); !strings.Contains(rc, "zupgrade_state_dir=") {
		t.Errorf("the hook removed more than zupgrade_enable from /etc/rc.conf:\n%s", rc)
	}
	if j := h.journal(); j.Status != steps.StatusDone {
		t.Errorf("the hook's boot changed the run: %s: %s", j.Status, j.Message)
	}
}
