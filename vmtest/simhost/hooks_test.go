// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"strings"
	"testing"
)

// hookScript is an rc.d script of the usual form; it records its boot
// through simulated commands and exits with $HOOK_EXIT.
const hookScript = `#!/bin/sh
# PROVIDE: testhook
# REQUIRE: LOGIN

. /etc/rc.subr

name="testhook"
rcvar="testhook_enable"
start_cmd="testhook_start"
stop_cmd=":"

load_rc_config $name
: ${testhook_enable:="NO"}

testhook_start()
{
	echo "kernel $(uname -r)"
	sysrc -f /etc/hook.conf "boots_$(date +%s)=YES" >/dev/null
	return ${HOOK_EXIT:-0}
}

run_rc_command "$1"
`

// TestBootHooks checks that enabled rc.d scripts run at boot with the machine's
// PATH; disabled ones do not; a hook may reboot the machine again.
func TestBootHooks(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Fatalf("the boot hooks need /bin/sh: %v", err)
	}
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	if err := os.WriteFile(tm.HostPath("/root/testhook"), []byte(hookScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tm.mustOK("", "install", "-m", "0555", "/root/testhook", "/usr/local/etc/rc.d/testhook")

	rep := tm.reboot(BootOptions{})
	if len(rep.Hooks) != 0 {
		t.Errorf("a disabled hook ran: %+v", rep.Hooks)
	}
	if out := tm.must("sysrc", "testhook_enable=YES"); out != "testhook_enable:  -> YES\n" {
		t.Errorf("sysrc: %q", out)
	}
	if got := tm.must("service", "-e"); got != "/usr/local/etc/rc.d/testhook\n" {
		t.Errorf("service -e: %q", got)
	}
	// A start method that fails makes run_rc_command return 1
	// (libexec/rc/rc.subr, _run_rc_doit), whatever its own status.
	rep = tm.reboot(BootOptions{Env: []string{"HOOK_EXIT=3"}})
	if len(rep.Hooks) != 1 || rep.Hooks[0].Exit != 1 || rep.Hooks[0].Output != "kernel 14.2-RELEASE\n" {
		t.Fatalf("hooks: %+v", rep.Hooks)
	}
	if got := tm.must("cat", "/etc/hook.conf"); !strings.Contains(got, "=\"YES\"") {
		t.Errorf("the hook's sysrc did not reach the machine: %q", got)
	}

	// A hook that reboots: the machine is going down when boot returns.
	script := strings.Replace(hookScript, "return ${HOOK_EXIT:-0}", "shutdown -r now >/dev/null", 1)
	if err := os.WriteFile(tm.HostPath("/usr/local/etc/rc.d/testhook"), []byte(script), 0o555); err != nil {
		t.Fatal(err)
	}
	rep = tm.reboot(BootOptions{})
	if !rep.Booted || len(rep.Hooks) != 1 || rep.Hooks[0].Exit != 0 {
		t.Errorf("rebooting hook: %+v", rep)
	}
	if m := tm.model(); m.Power != PowerGoingDown {
		t.Errorf("power after a hook ran shutdown -r now: %s", m.Power)
	}
	tm.mustBoot(BootOptions{NoHooks: true})

	// service runs the script too: describe is a keyword of every
	// script (libexec/rc/rc.subr, run_rc_command), empty without desc.
	if out := tm.must("service", "testhook", "onedescribe"); out != "" {
		t.Errorf("service testhook onedescribe: %q", out)
	}
}
