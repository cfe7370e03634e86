// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
	"github.com/zupgrade/zupgrade/vmtest/simrun"
)

// inProcess reports whether zupgrade runs in this process for a command
// line in the end-to-end tests: every command that needs no process of
// its own. As processes run: whatever the test host was made to run so
// (testHost.process), and apply and rollback when the run is to be killed
// (ZUPGRADE_CRASH_AT, which only the crash-test binary heeds), or faults
// of the machine cut its power, hang or stall a command (a process of the
// machine is killed, or killed by the test, there), or come from the
// environment (SIMHOST_FAULTS, which the binary's commands read).
func (h *testHost) inProcess(env []string, args []string) bool {
	h.t.Helper()
	cmd := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			cmd = a
			break
		}
	}
	switch cmd {
	case "inspect", "plan", "status", "version":
		return true
	case "apply", "rollback":
	default:
		return false
	}
	if h.process || slices.ContainsFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "ZUPGRADE_CRASH_AT=") || strings.HasPrefix(kv, simhost.FaultsEnv+"=")
	}) {
		return false
	}
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	return !slices.ContainsFunc(model.Faults, func(f *simhost.Fault) bool {
		return f.Action == simhost.FaultPowerCut || f.Action == simhost.FaultHang || f.Action == simhost.FaultStall
	})
}

// zupgradeHere runs zupgrade in this process against the machine and
// returns its exit code and combined output, as zupgradeFor does for the
// binary.
func (h *testHost) zupgradeHere(env []string, args ...string) (int, string) {
	h.t.Helper()
	return h.zupgradeAs(h.exe, env, args...)
}

// zupgradeAs is zupgradeHere with exe, a file of the machine, as the
// running zupgrade (Env.Executable).
func (h *testHost) zupgradeAs(exe string, env []string, args ...string) (int, string) {
	h.t.Helper()
	var out bytes.Buffer
	environ := append(h.m.Env(), env...)
	hostRoot := ""
	if h.defaultState {
		hostRoot = h.m.Root
	}
	code := Main(context.Background(), append([]string{"zupgrade"}, h.args(args)...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Environ: environ,
		Runner: &simrun.Runner{M: h.m, Env: environ}, Executable: exe, HostRoot: hostRoot,
	})
	return code, out.String()
}

// bootHere boots the machine without its rc.d scripts and, when the boot
// hook would resume the run (service -e lists it and the journal is
// pending, as its zupgrade_start tells), resumes it in this process with
// the hook's arguments and its zupgrade, /usr/local/sbin/zupgrade. It returns the exit code of the resumed run and
// its output, and whether it ran.
func (h *testHost) bootHere(env []string) (int, string, bool) {
	h.t.Helper()
	h.boot(simhost.BootOptions{NoHooks: true, Env: env})
	enabled := slices.Contains(strings.Fields(h.sh("service", "-e")), "/usr/local/etc/rc.d/zupgrade")
	j := h.journal()
	if !enabled || j == nil || j.Status == steps.StatusDone || j.Status == steps.StatusRolledBack {
		return 0, "", false
	}
	code, out := h.zupgradeAs(h.m.HostPath("/usr/local/sbin/zupgrade"), env, "--log-dir", h.logDir(), "apply", "--resume")
	return code, out, true
}

// TestInProcessMatchesProcess: a command run in process against the
// machine prints what the binary run on it prints.
func TestInProcessMatchesProcess(t *testing.T) {
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", ESPs: "all"})
	for _, args := range [][]string{{"inspect", "--json"}, {"plan", "--to", "14.2-RELEASE", "--json"}, {"status"}} {
		here, outHere := h.zupgradeHere(nil, args...)
		there, outThere := h.zupgradeFor(h.runLimit(), nil, args...)
		// The plan says when it was made (its time, the backup's name):
		// the two runs differ there only.
		when := regexp.MustCompile(`"created": "[^"]*"|-\d{8}T\d{6}\b`)
		outHere, outThere = when.ReplaceAllString(outHere, "WHEN"), when.ReplaceAllString(outThere, "WHEN")
		if here != there || strings.TrimSpace(outHere) != strings.TrimSpace(outThere) {
			t.Errorf("zupgrade %v: in process exit %d, as a process exit %d:\n%s\n---\n%s", args, here, there, outHere, outThere)
		}
	}
}

// TestInProcessApplyMatchesProcess: a whole upgrade through its reboot
// checkpoints, apply and the resumed runs in process, leaves the machine
// as the binary's run does, step by step, and so does a rollback.
func TestInProcessApplyMatchesProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts; not in -short")
	}
	t.Parallel()
	spec := simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Disks: 2, ESPs: "all"}
	here, there := newHost(t, spec), newHost(t, spec)
	there.process = true
	codeHere, logHere := here.runUpgrade(nil, "--to", "14.2-RELEASE")
	here.assertDone(codeHere, logHere)
	codeThere, logThere := there.runUpgrade(nil, "--to", "14.2-RELEASE")
	there.assertDone(codeThere, logThere)
	if a, b := here.summary(), there.summary(); a != b {
		t.Errorf("in process the machine ends as\n%s\nas a process as\n%s", a, b)
	}
	if a, b := bootCount(logHere), bootCount(logThere); a != b || a == 0 {
		t.Errorf("%d boots resumed the run in process, %d as a process", a, b)
	}
	states := func(h *testHost) []string {
		var s []string
		for _, r := range h.journal().Steps {
			s = append(s, r.ID+" "+string(r.State))
		}
		return s
	}
	if d := cmp.Diff(states(there), states(here)); d != "" {
		t.Errorf("steps (-process +in process):\n%s", d)
	}
	here.assertRunLog()
	here.assertBootsEverywhere("14.2-RELEASE")

	// Rolled back at the first checkpoint, both hosts boot their backup.
	for _, process := range []bool{false, true} {
		h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
		h.process = process
		if code, out := h.zupgrade(nil, "apply", "--to", "14.2-RELEASE", "--no-reboot"); code != ExitCheckpoint {
			t.Fatalf("apply (process %v): exit %d\n%s", process, code, out)
		}
		h.boot(simhost.BootOptions{NoHooks: true})
		if code, out := h.zupgrade(nil, "rollback"); code != 0 || !strings.Contains(out, "activated") {
			t.Fatalf("rollback (process %v): exit %d\n%s", process, code, out)
		}
		if !h.down() {
			t.Error("rollback did not reboot the host")
		}
		if rep := h.boot(simhost.BootOptions{}); !strings.HasPrefix(rep.Kernel, "13.4-RELEASE") {
			t.Errorf("after rollback (process %v): kernel %s from %s", process, rep.Kernel, rep.BE)
		}
	}
}
