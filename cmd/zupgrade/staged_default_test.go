// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// newDefaultStateHost is a stock bsdinstall host (stagedSpec) on which
// zupgrade runs without --state-dir, as an admin runs it, and finds its
// state directory itself; the test expects it on the pool's root dataset,
// /zroot/zupgrade. apply and rollback run as processes, so the boot hook
// resumes the run as rc runs it, with its rc.conf.d file.
func newDefaultStateHost(t *testing.T) *testHost {
	h := newHost(t, stagedSpec)
	h.defaultState, h.process = true, true
	h.state = h.m.HostPath("/zroot/zupgrade")
	return h
}

// TestStagedByDefault: on a stock host with no --state-dir, plan says the
// upgrade is staged, that the journal goes to /zroot/zupgrade, and
// creates nothing; the plan saved with -o is applied, stages 15.0 with
// one reboot and commits it, its journal on the pool's root dataset (none
// in /var/db/zupgrade, which is in the boot environment), and status in
// the new boot environment and finalize find it without --state-dir.
func TestStagedByDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newDefaultStateHost(t)
	code, out := h.zupgrade(nil, "plan", "--to", to)
	if code != 0 || !strings.Contains(out, "Method: staged in boot environment "+to) || !strings.Contains(out, "the journal is kept in "+h.state+", on the pool's root dataset zroot") ||
		!strings.Contains(out, "(apply creates the directory)") || !strings.Contains(out, "zupgrade_state_dir="+h.state+" ") {
		t.Fatalf("plan --to %s without --state-dir: exit %d\n%s", to, code, out)
	}
	if _, err := os.Stat(h.state); err == nil {
		t.Errorf("plan made %s", h.state)
	}
	saved := filepath.Join(t.TempDir(), "plan.json")
	if code, out := h.zupgrade(nil, "plan", "--to", to, "-o", saved); code != 0 {
		t.Fatalf("plan -o: exit %d\n%s", code, out)
	}
	code, log := h.runUpgrade(nil, saved)
	h.assertDone(code, log)
	if n := bootCount(log); n != 1 {
		t.Errorf("%d reboots, want 1:\n%s", n, log)
	}
	if list := h.sh("bectl", "list", "-H"); !strings.Contains(list, to+"\tNR\t/\t") {
		t.Errorf("the new boot environment is not active for good:\n%s", list)
	}
	if _, err := os.Stat(h.m.HostPath("/var/db/zupgrade/journal.json")); err == nil {
		t.Error("the run kept a journal in /var/db/zupgrade, inside the boot environment")
	}
	if j := h.journal(); j == nil || j.Plan.Staged == nil {
		t.Fatalf("no staged journal in %s", h.state)
	}
	code, out = h.zupgrade(nil, "status")
	if code != 0 || !strings.Contains(out, "-> "+to+", done") {
		t.Errorf("status in the new boot environment: exit %d\n%s", code, out)
	}
	if code, out := h.zupgrade(nil, "finalize", "--keep", "1"); code != 0 {
		t.Fatalf("finalize without --state-dir: exit %d\n%s", code, out)
	}
	if j := h.journal(); j == nil || j.Plan.Mode != "finalize" || j.Status != "done" {
		t.Errorf("finalize's journal is not in %s", h.state)
	}
	h.assertBootsEverywhere(to)
}

// TestStagedDefaultFailedTrial: without --state-dir, a trial whose
// health check fails falls back (--auto-revert), and plain zupgrade
// status in the old boot environment says why: both boot environments
// found the same journal. rollback finds it too.
func TestStagedDefaultFailedTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	const to = "15.0-RELEASE"
	h := newDefaultStateHost(t)
	code, log := h.runUpgrade(nil, "--to", to, "--health-cmd", "cat /zroot/health-ok", "--auto-revert")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat("14.3-RELEASE-p3\n", 3) {
		t.Fatalf("after the fallback freebsd-version -kru = %q", got)
	}
	code, out := h.zupgrade(nil, "status")
	if first, _, _ := strings.Cut(out, "\n"); code != 0 || !strings.HasPrefix(first, "trial of "+to+" failed: ") {
		t.Errorf("status in the old boot environment: exit %d\n%s", code, out)
	}
	if _, out := h.zupgrade(nil, "rollback", "--yes", "--no-reboot"); strings.Contains(out, "no zupgrade run to roll back") {
		t.Errorf("rollback in the old boot environment finds no run:\n%s", out)
	}
}

// TestDefaultStateFallsBackInPlace: when the pool's root dataset cannot
// keep the journal where both boot environments see it (not mounted:
// canmount=off or mountpoint=none; readonly), plan without --state-dir
// upgrades in place and its Method line says why and what to do; an explicit
// --state-dir outside the boot environments still stages.
func TestDefaultStateFallsBackInPlace(t *testing.T) {
	t.Parallel()
	const to = "15.0-RELEASE"
	for _, c := range []struct {
		name string
		set  func(*simhost.Dataset)
		why  string
		fix  string
	}{
		{"canmount=off", func(d *simhost.Dataset) { d.Canmount = "off" }, "canmount=off", "zfs set canmount=on zroot"},
		{"mountpoint=none", func(d *simhost.Dataset) { d.Mountpoint = "none" }, "mountpoint=none", "zfs set mountpoint=/zroot zroot"},
		{"readonly", func(d *simhost.Dataset) { d.Readonly = true }, "readonly=on", "zfs set readonly=off zroot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newDefaultStateHost(t)
			if err := h.m.Update(func(m *simhost.Model) error {
				for _, d := range m.Pools[0].Datasets {
					if d.Name == "zroot" {
						c.set(d)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			code, out := h.zupgrade(nil, "plan", "--to", to)
			method := ""
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "Method: ") {
					// The host's root directory is named after the test.
					method = strings.ReplaceAll(l, h.m.Root, "")
				}
			}
			if !strings.HasPrefix(method, "Method: in place") || !strings.Contains(method, "zroot") || !strings.Contains(method, c.why) || !strings.Contains(method, c.fix) || !strings.Contains(method, "/var/db/zupgrade") {
				t.Errorf("plan with the pool root %s: exit %d, method %q\n%s", c.name, code, method, out)
			}
		})
	}
	h := newDefaultStateHost(t)
	if err := os.MkdirAll(h.m.HostPath("/var/log/keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out := h.zupgrade(nil, "--state-dir", h.m.HostPath("/var/log/keep/zupgrade"), "plan", "--to", to)
	if code != 0 || !strings.Contains(out, "Method: staged in boot environment "+to) {
		t.Errorf("plan with --state-dir on zroot/var/log: exit %d\n%s", code, out)
	}
}

// TestDefaultStateFindsRunPendingInBootEnv: a run that keeps its journal
// in /var/db/zupgrade (given there, as zupgrade's default was before it
// kept its state on the pool) and is pending, stopped at its first reboot
// checkpoint, is what status and plan without --state-dir find while the
// pool's directory has no journal.
func TestDefaultStateFindsRunPendingInBootEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", ESPs: "all"})
	h.defaultState, h.process = true, true
	inBE := h.m.HostPath("/var/db/zupgrade")
	code, out := h.zupgrade(nil, "--state-dir", inBE, "apply", "--to", "14.3-RELEASE", "--in-place", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply --in-place --no-reboot in %s: exit %d\n%s", inBE, code, out)
	}
	code, out = h.zupgrade(nil, "status")
	if code != 0 || !strings.Contains(out, "13.4-RELEASE -> 14.3-RELEASE, checkpoint") {
		t.Errorf("status without --state-dir: exit %d\n%s", code, out)
	}
	code, out = h.zupgrade(nil, "plan", "--to", "14.3-RELEASE")
	if !strings.Contains(out, "zupgrade_state_dir="+inBE+" ") || !strings.Contains(out, "a run is pending in "+inBE) {
		t.Errorf("plan without --state-dir while the run is pending: exit %d\n%s", code, out)
	}
}
