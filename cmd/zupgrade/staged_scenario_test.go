// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// stagedSpec is a 14.3 BIOS+UEFI mirror on the boot environment layout,
// without EN-25:18: the in-place upgrade to 15.0 is blocked there, the
// staged one is not (nothing of the new system runs before it boots).
var stagedSpec = simhost.Spec{Preset: "bios+uefi", Release: "14.3-RELEASE-p3", Disks: 2, ESPs: "all"}

// newStagedHost is a host whose zupgrade state directory is on the pool's
// root dataset (/zroot, outside the boot environments), where a staged
// run keeps its journal.
func newStagedHost(t *testing.T) *testHost {
	h := newHost(t, stagedSpec)
	h.state = filepath.Join(h.m.Root, "zroot/zupgrade")
	return h
}

// TestStagedUpgrade: apply --to 15.0 on a host with boot environments
// builds 15.0 in a new boot environment while 14.3 runs, boots it once on
// trial, finds it healthy and keeps it: one reboot, and the pool's
// features untouched (that is zupgrade finalize's).
func TestStagedUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newStagedHost(t)
	code, out := h.zupgrade(nil, "plan", "--to", to)
	if code != 0 || !strings.Contains(out, "staged in boot environment "+to) || !strings.Contains(out, "bectl check") {
		t.Fatalf("plan --to %s: exit %d\n%s", to, code, out)
	}
	if strings.Contains(out, "$ zpool upgrade") || strings.Contains(out, "[block]") {
		t.Errorf("the staged plan upgrades the pool or needs EN-25:18:\n%s", out)
	}
	code, out = h.zupgrade(nil, "plan", "--to", to, "--in-place")
	if code != ExitBlocked || !strings.Contains(out, "in place (--in-place)") || !strings.Contains(out, "[block] EN-25:18") {
		t.Errorf("plan --in-place: exit %d\n%s", code, out)
	}
	// The features in use; the new system's zpool also lists the ones it
	// knows more of, disabled.
	features := func() string {
		var on []string
		for _, l := range strings.Split(h.sh("zpool", "get", "-H", "-p", "all"), "\n") {
			if strings.Contains(l, "\tfeature@") && !strings.Contains(l, "\tdisabled\t") {
				on = append(on, l)
			}
		}
		return strings.Join(on, "\n")
	}
	before := features()

	code, log := h.runUpgrade(nil, "--to", to, "--health-cmd", "cat /etc/rc.conf")
	h.assertDone(code, log)
	if n := bootCount(log); n != 1 {
		t.Errorf("%d reboots, want 1:\n%s", n, log)
	}
	if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat(to+"\n", 3) {
		t.Errorf("freebsd-version -kru = %q", got)
	}
	if list := h.sh("bectl", "list", "-H"); !strings.Contains(list, to+"\tNR\t/\t") {
		t.Errorf("the new boot environment is not active for good:\n%s", list)
	}
	if got := features(); got != before {
		t.Errorf("the staged run changed the pool's features:\n%s", lineDiff(before, got))
	}
	h.assertBootsEverywhere(to)
}

// TestStagedUnhealthyTrial: the trial boot's health check fails (the
// admin's --health-cmd); with --auto-revert zupgrade reboots at once, the
// old boot environment comes back (the one-time activation is spent), and
// the run there says why the trial failed and removes its boot hook.
func TestStagedUnhealthyTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newStagedHost(t)
	code, log := h.runUpgrade(nil, "--to", to, "--health-cmd", "cat /zroot/health-ok", "--auto-revert")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	if n := bootCount(log); n != 2 {
		t.Errorf("%d boots, want 2 (the trial and the fallback):\n%s", n, log)
	}
	if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat("14.3-RELEASE-p3\n", 3) {
		t.Errorf("after the fallback freebsd-version -kru = %q", got)
	}
	if list := h.sh("bectl", "list", "-H"); !strings.Contains(list, "default\tNR\t/\t") {
		t.Errorf("the old boot environment is not the running and next one:\n%s", list)
	}
	j := h.journal()
	if j.Status != "failed" || !strings.Contains(j.Message, "trial of "+to+" failed") || !strings.Contains(j.Message, "cat /zroot/health-ok") {
		t.Errorf("journal after the fallback: %s: %s", j.Status, j.Message)
	}
	if _, err := os.Stat(h.m.HostPath("/usr/local/etc/rc.d/zupgrade")); err == nil {
		t.Error("the boot hook is still installed in the old boot environment")
	}
}

// TestStagedTrialPanics: the new kernel panics at its trial boot; the
// machine resets into the old boot environment (the one-time activation
// is spent), whose boot hook ends the run saying that the trial never
// reached the health checks.
func TestStagedTrialPanics(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newStagedHost(t)
	code, out := h.zupgrade(nil, "apply", "--to", to)
	if code != 0 || !h.down() {
		t.Fatalf("apply: exit %d, down %v\n%s", code, h.down(), out)
	}
	rep := h.boot(simhost.BootOptions{PanicIn: to})
	if rep.BE != "zroot/ROOT/default" {
		t.Fatalf("after the panic the machine booted %s", rep.BE)
	}
	h.wait()
	j := h.journal()
	if j.Status != "failed" || !strings.Contains(j.Message, "trial of "+to+" failed: the trial boot never reached zupgrade's health checks") {
		t.Errorf("journal after the panicked trial: %s: %s", j.Status, j.Message)
	}
	if r := j.Record("reboot-trial"); r.State != "started" {
		t.Errorf("reboot-trial %s, want started", r.State)
	}
	if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat("14.3-RELEASE-p3\n", 3) {
		t.Errorf("after the fallback freebsd-version -kru = %q", got)
	}
}

// fooRC is an rc.d script of a daemon that does not come up on 15.0: its
// status says so there (rc.subr's status of a daemon that does not run).
const fooRC = `#!/bin/sh
. /etc/rc.subr
name=foo
rcvar=foo_enable
extra_commands=status
start_cmd=:
stop_cmd=:
status_cmd=foo_status
foo_status()
{
	case "$(uname -r)" in
	15.*) echo "foo is not running."; return 1 ;;
	esac
	echo "foo is running as pid 42."
}
load_rc_config $name
run_rc_command "$1"
`

// TestStagedServiceDown: a service enabled in rc.conf does not run in the
// trial boot; the run stops there, the boot environment is not kept, and
// the admin's reboot returns to the old one, where the run says which
// service it was.
func TestStagedServiceDown(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newStagedHost(t)
	if err := os.WriteFile(h.m.HostPath("/usr/local/etc/rc.d/foo"), []byte(fooRC), 0o755); err != nil {
		t.Fatal(err)
	}
	h.sh("sysrc", "foo_enable=YES")
	code, log := h.runUpgrade(nil, "--to", to)
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	if j := h.journal(); j.Status != "failed" || !strings.Contains(j.Message, "enabled services not running: foo") || !strings.Contains(j.Message, "reboot to return to default") {
		t.Fatalf("journal in the trial: %s: %s", j.Status, j.Message)
	}
	if list := h.sh("bectl", "list", "-H"); !strings.Contains(list, to+"\tN\t/\t") || !strings.Contains(list, "default\tR\t") {
		t.Errorf("in the failed trial bectl list -H:\n%s", list)
	}
	// The admin reboots: the old boot environment comes back.
	rep := h.boot(simhost.BootOptions{})
	h.wait()
	if rep.BE != "zroot/ROOT/default" {
		t.Fatalf("the reboot after the failed trial booted %s", rep.BE)
	}
	if j := h.journal(); j.Status != "failed" || !strings.HasPrefix(j.Message, "trial of "+to+" failed: enabled services not running: foo") {
		t.Errorf("journal in the old boot environment: %s: %s", j.Status, j.Message)
	}
}
