// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// The zupgrade and simhost binaries the end-to-end tests run, built once.
var (
	buildOnce           sync.Once
	zupgradeBin, simBin string
	buildErr            error
	binDir              string
)

func binaries(t testing.TB) (zup, sim string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "zupgrade-e2e-")
		if buildErr != nil {
			return
		}
		zupgradeBin = filepath.Join(binDir, "zupgrade")
		out, err := exec.Command("go", "build", "-tags", "zupgrade_crashtest", "-o", zupgradeBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build zupgrade: %v\n%s", err, out)
			return
		}
		simBin, buildErr = simhost.BuildBinary(binDir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return zupgradeBin, simBin
}

// host is a simulated machine with zupgrade's state directory on it.
type testHost struct {
	t     testing.TB
	m     *simhost.Machine
	state string
	// exe is the zupgrade binary on the machine (a file under its root),
	// which the tests run, as an admin runs the copy they put on the host.
	exe string
	// process: apply and rollback run as processes (see inProcess).
	process bool
	// defaultState: zupgrade is run without --state-dir, the host's root
	// given as Env.HostRoot (ZUPGRADE_HOST_ROOT to the binary), and finds
	// its state directory by itself; state is where the test expects it.
	defaultState bool
}

// args is zupgrade's command line for args: with --state-dir unless
// the test host lets zupgrade find its state directory.
func (h *testHost) args(args []string) []string {
	if h.defaultState {
		return args
	}
	return append([]string{"--state-dir", h.state}, args...)
}

// logDir is where the run logs are: the default one below the host's
// root when zupgrade finds its state directory, else beside the state.
func (h *testHost) logDir() string {
	if h.defaultState {
		return h.m.HostPath(steps.DefaultLogDir)
	}
	return steps.LogDirFor(h.state)
}

// newHost makes a machine with zupgrade installed as /usr/local/sbin/zupgrade
// (README's way).
func newHost(t testing.TB, spec simhost.Spec) *testHost {
	t.Helper()
	return newHostWith(t, spec, "/usr/local/sbin/zupgrade")
}

// newHostWith makes a machine with zupgrade put at the machine path exe.
func newHostWith(t testing.TB, spec simhost.Spec, exe string) *testHost {
	t.Helper()
	zup, sim := binaries(t)
	root := filepath.Join(t.TempDir(), "host")
	m, err := simhost.New(root, spec, sim)
	if err != nil {
		t.Fatalf("simhost.New: %v", err)
	}
	h := &testHost{t: t, m: m, state: filepath.Join(root, "var/db/zupgrade"), exe: m.HostPath(exe)}
	if err := os.MkdirAll(filepath.Dir(h.exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(zup, h.exe); err != nil {
		data, err := os.ReadFile(zup)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(h.exe, data, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// zupgrade runs zupgrade on the host and returns its exit code and
// combined output: in this process for the commands that need no process
// of their own (inProcess), else the binary.
func (h *testHost) zupgrade(env []string, args ...string) (int, string) {
	h.t.Helper()
	if h.inProcess(env, args) {
		return h.zupgradeHere(env, args...)
	}
	return h.zupgradeFor(h.runLimit(), env, args...)
}

// runLimit bounds a zupgrade process that should end by itself: the
// test's own deadline (go test -timeout) less a minute to report the
// hang, so that a slow, loaded machine is never taken for a hung run;
// two minutes when the test has no deadline.
func (h *testHost) runLimit() time.Duration {
	if t, ok := h.t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := t.Deadline(); ok {
			if d := time.Until(dl) - time.Minute; d > 2*time.Minute {
				return d
			}
		}
	}
	return 2 * time.Minute
}

// zupgradeFor is zupgrade killed with SIGKILL after d; a killed run
// returns exit code -1.
func (h *testHost) zupgradeFor(d time.Duration, env []string, args ...string) (int, string) {
	h.t.Helper()
	cmd := exec.Command(h.exe, h.args(args)...)
	cmd.Env = append(h.m.Env(), env...)
	if h.defaultState {
		cmd.Env = append(cmd.Env, "ZUPGRADE_HOST_ROOT="+h.m.Root)
	}
	cmd.Dir = h.m.Root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	p, err := h.m.Start(cmd) // a process of the machine: a power cut kills it
	if err != nil {
		h.t.Fatal(err)
	}
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String()
		}
		if err != nil {
			h.t.Fatal(err)
		}
		return 0, out.String()
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		if d >= time.Minute {
			h.t.Fatalf("zupgrade %v hung:\n%s", args, out.String())
		}
		return -1, out.String()
	}
}

// journal reads the run's journal (nil when there is none).
func (h *testHost) journal() *steps.Journal {
	h.t.Helper()
	j, err := steps.Store{Dir: h.state}.Load()
	if err != nil {
		h.t.Fatalf("journal: %v", err)
	}
	return j
}

// boot boots the machine (running the boot hook) and fails the test when
// it does not come up.
func (h *testHost) boot(opts simhost.BootOptions) *simhost.BootReport {
	h.t.Helper()
	rep, err := h.m.Boot(opts)
	if err != nil {
		h.t.Fatalf("boot: %v", err)
	}
	if !rep.Booted {
		h.t.Fatalf("the machine does not boot: %s\n%s", rep.Reason, strings.Join(rep.Console, "\n"))
	}
	return rep
}

// runUpgrade runs apply with args and then boots the machine whenever it
// goes down (a checkpoint's reboot, a power cut), as an admin or the
// hardware would, until the run stops. A machine that is down at the start
// is booted first, and apply is run only if its boot hook did not end the
// run. After each boot it waits for the run the hook detached (daemon -f).
// It returns the last exit code of zupgrade, run by hand or by the hook.
func (h *testHost) runUpgrade(env []string, args ...string) (int, string) {
	h.t.Helper()
	var log strings.Builder
	code := 0
	ran := false
	for i := 0; i < 10; i++ {
		if h.down() && h.inProcess(env, append([]string{"apply"}, args...)) {
			if c, out, ok := h.bootHere(env); ok {
				code = c
				fmt.Fprintf(&log, "\n--- boot, hook exit %d (its run resumed in process)\n%s", c, out)
			}
			continue
		}
		if h.down() {
			rep := h.boot(simhost.BootOptions{Env: env})
			for _, hk := range rep.Hooks {
				if strings.HasSuffix(hk.Script, "/zupgrade") {
					code = hk.Exit
					fmt.Fprintf(&log, "\n--- boot, hook exit %d\n%s", hk.Exit, hk.Output)
				}
			}
			for _, p := range h.wait() {
				if slices.Contains(p.Argv, "--resume") {
					code = p.Exit
					resumeLog := filepath.Join(h.logDir(), "resume.log")
					data, _ := os.ReadFile(resumeLog)
					fmt.Fprintf(&log, "--- resumed run %v: %s, exit %d\n%s", p.Argv, p.State, p.Exit, data)
					os.Remove(resumeLog)
				}
			}
			continue
		}
		j := h.journal()
		if j != nil && j.Status == steps.StatusDone && (ran || log.Len() > 0) {
			return code, log.String()
		}
		if ran && (code != 0 || j == nil || j.Status != steps.StatusRebooting) {
			return code, log.String()
		} else if !ran {
			var out string
			code, out = h.zupgrade(env, append([]string{"apply"}, args...)...)
			log.WriteString(out)
			ran = true
		} else {
			return code, log.String()
		}
	}
	h.t.Fatalf("the run does not end:\n%s", log.String())
	return -1, ""
}

// wait waits for the processes the boot hooks detached to end, bounded by
// the test's deadline, and returns them.
func (h *testHost) wait() []simhost.Daemon {
	h.t.Helper()
	ctx := context.Background()
	if d, ok := h.t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
			defer cancel()
		}
	}
	procs, err := h.m.Wait(ctx)
	if err != nil {
		h.t.Fatalf("the run the boot hook started does not end: %v", err)
	}
	return procs
}

// down reports whether the machine is off or going down.
func (h *testHost) down() bool {
	h.t.Helper()
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	return model.Running == nil || model.Power != simhost.PowerOn
}

// sh runs a simulated command on the machine.
func (h *testHost) sh(args ...string) string {
	h.t.Helper()
	var out, errb bytes.Buffer
	if code := h.m.Exec(context.Background(), args, nil, &out, &errb, nil); code != 0 {
		h.t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// state summarises what matters of the machine after an upgrade: releases,
// boot code on every disk, pool features, packages and their ABI. Two runs
// that reach the same state summarise alike.
func (h *testHost) summary() string {
	h.t.Helper()
	var b strings.Builder
	b.WriteString(h.sh("freebsd-version", "-kru"))
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range model.Disks {
		for _, p := range d.Partitions {
			if p.Type != "freebsd-boot" {
				continue
			}
			sum := sha256.Sum256(p.Data)
			fmt.Fprintf(&b, "%s p%d %s\n", d.Name, p.Index, hex.EncodeToString(sum[:8]))
		}
	}
	for _, l := range strings.Split(h.sh("zpool", "get", "-H", "-p", "all"), "\n") {
		if strings.Contains(l, "\tfeature@") {
			f := strings.Fields(l)
			fmt.Fprintf(&b, "%s %s %s\n", f[0], f[1], f[2])
		}
	}
	b.WriteString(h.sh("pkg", "query", "%n %q"))
	return b.String()
}

// assertBootsEverywhere boots the machine from each disk in turn and
// checks that it comes up on the target release from that very disk.
func (h *testHost) assertBootsEverywhere(target string) {
	h.t.Helper()
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range model.Disks {
		rep := h.boot(simhost.BootOptions{FirstDisk: d.Name, NoHooks: true})
		if rep.Disk != d.Name {
			h.t.Errorf("asked to boot from %s, the firmware booted from %q (%s)", d.Name, rep.Disk, rep.Path)
		}
		if !strings.HasPrefix(rep.Kernel, strings.TrimSuffix(target, "-RELEASE")) {
			h.t.Errorf("booted from %s: kernel %s, want %s", d.Name, rep.Kernel, target)
		}
		if len(rep.BrokenPackages) > 0 {
			h.t.Errorf("broken packages after the upgrade: %v", rep.BrokenPackages)
		}
	}
	if _, err := os.Stat(h.m.HostPath("/usr/local/etc/rc.d/zupgrade")); err == nil {
		h.t.Error("the boot hook is still installed after the run ended")
	}
}

func (h *testHost) assertDone(code int, log string) {
	h.t.Helper()
	j := h.journal()
	if code != 0 || j == nil || j.Status != steps.StatusDone {
		status := "no journal"
		if j != nil {
			status = string(j.Status) + ": " + j.Message
		}
		h.t.Fatalf("run did not finish (exit %d, %s):\n%s", code, status, log)
	}
}

// assertRunLog checks the run's JSON log: one JSON object per line, with
// every step and every command with its output.
func (h *testHost) assertRunLog() {
	h.t.Helper()
	j := h.journal()
	data, err := os.ReadFile(filepath.Join(h.state, "logs", j.RunID+".json"))
	if err != nil {
		h.t.Fatalf("run log: %v", err)
	}
	var steps, installs int
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			h.t.Fatalf("run log line %q: %v", line, err)
		}
		switch rec["msg"] {
		case "step":
			steps++
		case "command":
			if strings.HasPrefix(fmt.Sprint(rec["cmd"]), "freebsd-update") && strings.Contains(fmt.Sprint(rec["stdout"]), "Installing updates") {
				installs++
			}
		}
	}
	if steps < len(j.Steps)-2 || installs < 2 {
		h.t.Errorf("run log holds %d step records and %d freebsd-update install outputs", steps, installs)
	}
}

func jsonOf(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
