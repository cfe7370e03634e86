// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// crashShape is a host of the crash matrix and the runs that upgrade it,
// one after the other.
type crashShape struct {
	name string
	spec simhost.Spec
	// runs are the arguments of each apply; each run starts once the one
	// before has ended.
	runs [][]string
	// target is the release the host boots from every disk at the end.
	target string
	// stateDir, when set, is the state directory on the host: a staged
	// upgrade keeps it on the pool's root dataset, outside the boot
	// environments.
	stateDir string
}

// newCrashHost makes the shape's host.
func newCrashHost(t *testing.T, sh crashShape) *testHost {
	h := newHost(t, sh.spec)
	if sh.stateDir != "" {
		h.state = h.m.HostPath(sh.stateDir)
	}
	return h
}

// crashShapes are the hosts of the crash matrix: across major releases so
// that every step of the catalog runs, a patch run, and EN-25:18's patch
// run before an upgrade to 15.0 (simhost models EN-25:18 at 14.3-RELEASE-p6),
// and a staged upgrade.
var crashShapes = []crashShape{
	{"bios-2way-13.4-14.2", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 2},
		[][]string{{"--to", "14.2-RELEASE"}}, "14.2-RELEASE", ""},
	{"bios+uefi-3way-14.3-p5-en2518-15.0", simhost.Spec{Preset: "bios+uefi", Release: "14.3-RELEASE-p5", Disks: 3, Naming: "gpt-label", ESPs: "all", Updates: map[string]int{"14.3-RELEASE": 6}},
		[][]string{nil, {"--to", "15.0-RELEASE"}}, "15.0-RELEASE", ""},
	{"uefi-nda-2way-14.2-14.3", simhost.Spec{Preset: "uefi", Release: "14.2-RELEASE", Disks: 2, DiskPrefix: "nda", ESPs: "all"},
		[][]string{{"--to", "14.3-RELEASE"}}, "14.3-RELEASE", ""},
	{"patch-13.5-p3-p6", simhost.Spec{Preset: "bios+uefi", Release: "13.5-RELEASE-p3", Disks: 2, ESPs: "all", Updates: map[string]int{"13.5-RELEASE": 6}},
		[][]string{nil}, "13.5-RELEASE", ""},
	{"bios+uefi-on-uefi-format-esps-13.4-14.2", simhost.Spec{Preset: "bios+uefi", Firmware: "UEFI", Release: "13.4-RELEASE", Disks: 2, ESPs: "first"},
		[][]string{{"--to", "14.2-RELEASE", "--format-esps"}}, "14.2-RELEASE", ""},
	// A staged upgrade, without EN-25:18 (which it does not need).
	{"staged-bios+uefi-2way-14.3-p3-15.0", simhost.Spec{Preset: "bios+uefi", Release: "14.3-RELEASE-p3", Disks: 2, ESPs: "all"},
		[][]string{{"--to", "15.0-RELEASE"}}, "15.0-RELEASE", "/zroot/zupgrade"},
}

// crashMatrixEnv, set to "full", runs every cell of the crash matrix, each
// with a second fault; set to "K/N", it runs the K-th of N shards of those
// cells (every N-th cell of every shape, from the K-th), so that N runs
// together cover the whole matrix; otherwise a fixed sample of it runs
// (one cell per step, all shapes, every other one with a second fault).
const crashMatrixEnv = "ZUPGRADE_CRASH_MATRIX"

// The points of a step at which a fault strikes, and the faults.
const (
	pointMidCommand = "mid-command" // during the step's first command that changes the host
	faultKill       = "kill"        // zupgrade killed with SIGKILL; the host stays up
	faultPower      = "power"       // the power fails; the host goes down
)

// crashCell is one interrupted upgrade of the matrix.
type crashCell struct {
	run   int        // index of the run the first fault strikes
	step  steps.Step // the step, from the reference run's plan
	point string     // a steps.CrashPoint or pointMidCommand
	fault string     // faultKill or faultPower
	// second: another fault (of the other kind) strikes the resume after
	// the first, once it has started the first step it runs.
	second bool
	// ran is the first command of the step that changed the host in the
	// reference run (mid-command cells).
	ran []string
	// trial, for the cells of a staged upgrade's trial boot
	// (trialCells), runs the upgrade into the trial's failure instead of
	// a fault at a step.
	trial func(h *testHost, log *strings.Builder)
	// label names a trial cell.
	label string
}

func (c crashCell) name() string {
	if c.trial != nil {
		return "trial/" + c.label
	}
	n := fmt.Sprintf("run%d/%s/%s-%s", c.run+1, c.step.ID, c.fault, c.point)
	if c.second {
		n += "/then-" + otherFault(c.fault)
	}
	return n
}

func otherFault(f string) string {
	if f == faultKill {
		return faultPower
	}
	return faultKill
}

// crashReference is what the run without faults did on a shape.
type crashReference struct {
	summary string
	backups int
	plans   []*steps.Plan
	records [][]steps.StepRecord
	ran     []map[string][]string
}

// crashReferenceRun upgrades the shape's host without faults.
func crashReferenceRun(t *testing.T, sh crashShape) crashReference {
	ref := newCrashHost(t, sh)
	var r crashReference
	for _, args := range sh.runs {
		code, log := ref.runUpgrade(nil, args...)
		ref.assertDone(code, log)
		j := ref.journal()
		r.plans = append(r.plans, j.Plan)
		r.records = append(r.records, j.Steps)
		r.ran = append(r.ran, ref.firstMutationsRun())
	}
	ref.assertBootsEverywhere(sh.target)
	r.summary, r.backups = ref.summary(), ref.backups()
	return r
}

// cells lists every cell of the matrix on the shape: each step that ran x
// each point x each fault, each without and with a second fault.
func (r crashReference) cells() []crashCell {
	var cells []crashCell
	for run, plan := range r.plans {
		for i, s := range plan.Steps {
			rec := r.records[run][i]
			if rec.State == steps.StepSkipped {
				continue
			}
			points := []string{string(steps.BeforeStart)}
			if rec.Attempts > 0 {
				// A step whose effect was there before it started
				// (nothing to do on this host) has only the point
				// before it.
				points = append(points, string(steps.AfterStarted))
				if r.ran[run][s.ID] != nil {
					points = append(points, pointMidCommand)
				}
				if !s.Checkpoint { // a checkpoint ends the process by rebooting
					points = append(points, string(steps.AfterRun))
				}
			}
			cells = appendCells(cells, run, s, points, r.ran[run][s.ID])
		}
		// The end of the run, which removes the boot hook.
		points := []string{string(steps.BeforeStart), string(steps.AfterRun)}
		if r.ran[run][steps.StepFinish] != nil {
			points = []string{string(steps.BeforeStart), pointMidCommand, string(steps.AfterRun)}
		}
		cells = appendCells(cells, run, steps.Step{ID: steps.StepFinish}, points, r.ran[run][steps.StepFinish])
	}
	return cells
}

// appendCells appends the cells of a step: each point x each fault, each
// without and with a second fault.
func appendCells(cells []crashCell, run int, s steps.Step, points []string, ran []string) []crashCell {
	for _, p := range points {
		for _, f := range []string{faultKill, faultPower} {
			for _, second := range []bool{false, true} {
				cells = append(cells, crashCell{run: run, step: s, point: p, fault: f, second: second, ran: ran})
			}
		}
	}
	return cells
}

// sample picks one cell per step, a different point, fault and second
// fault from one step to the next, so that the sample covers each kind.
func sample(cells []crashCell) []crashCell {
	var out []crashCell
	for i := 0; i < len(cells); {
		j := i
		for j < len(cells) && cells[j].run == cells[i].run && cells[j].step.ID == cells[i].step.ID {
			j++
		}
		out = append(out, cells[i+len(out)*5%(j-i)])
		i = j
	}
	return out
}

// crashShard reads the shard K/N of ZUPGRADE_CRASH_MATRIX; shards is 0
// when the variable names no shard.
func crashShard(mode string) (shard, shards int, err error) {
	k, n, ok := strings.Cut(mode, "/")
	if !ok {
		if mode != "" && mode != "full" {
			return 0, 0, fmt.Errorf("%s=%q: want full or a shard K/N", crashMatrixEnv, mode)
		}
		return 0, 0, nil
	}
	shard, err1 := strconv.Atoi(k)
	shards, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || shards < 1 || shard < 1 || shard > shards {
		return 0, 0, fmt.Errorf("%s=%q: want a shard K/N with 1 <= K <= N", crashMatrixEnv, mode)
	}
	return shard, shards, nil
}

// withSecondFault keeps the cells with a second fault: each resumes into
// another fault, then runs without faults, so that together they also
// cover the resume without a second fault (the sample runs those as well).
// All the cells take twice as long, more than CI's budget on two cores.
func withSecondFault(cells []crashCell) []crashCell {
	var out []crashCell
	for _, c := range cells {
		if c.second {
			out = append(out, c)
		}
	}
	return out
}

// TestCrashMatrix interrupts upgrades on six host shapes at every step and
// every point of it: before the step starts, once the journal says it
// started, in the middle of its first command that changes the host, and
// after its effect but before the journal says so; zupgrade killed with
// SIGKILL or the power cut, and in the resume after it a second fault of
// the other kind (in the sample, every other cell). Then the host is booted if it went down, and the
// admin runs zupgrade apply until the run ends. Every cell must end with a
// host that boots the target from every disk and looks exactly like the
// host of the run without faults, with one backup per run, and no command
// may run beside one a killed zupgrade left running. Without
// ZUPGRADE_CRASH_MATRIX=full a fixed sample runs: one cell per step.
func TestCrashMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash matrix runs dozens of whole upgrades; not in -short")
	}
	mode := os.Getenv(crashMatrixEnv)
	shard, shards, err := crashShard(mode)
	if err != nil {
		t.Fatal(err)
	}
	full := mode == "full" || shards > 0
	for _, sh := range crashShapes {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			ref := crashReferenceRun(t, sh)
			cells := ref.cells()
			if full {
				cells = append(withSecondFault(cells), trialCells(sh)...)
				if shards > 0 {
					var some []crashCell
					for i := shard - 1; i < len(cells); i += shards {
						some = append(some, cells[i])
					}
					cells = some
				}
			} else {
				cells = append(sample(cells), trialCells(sh)...)
			}
			var passed, stuck, seconds atomic.Int32
			t.Run("cells", func(t *testing.T) {
				for _, c := range cells {
					t.Run(c.name(), func(t *testing.T) {
						t.Parallel()
						if runCrashCell(t, sh, ref, c, &seconds) {
							stuck.Add(1)
						} else if !t.Failed() {
							passed.Add(1)
						}
					})
				}
			})
			what := "sample"
			switch {
			case shards > 0:
				what = fmt.Sprintf("shard %d/%d", shard, shards)
			case full:
				what = "full"
			}
			msg := fmt.Sprintf("crash matrix %s (%s): %d cells, %d passed, %d stuck; %d second faults struck", sh.name, what, len(cells), passed.Load(), stuck.Load(), seconds.Load())
			t.Log(msg)
			fmt.Fprintln(os.Stderr, msg)
		})
	}
}

// runCrashCell runs one cell and reports whether the run got stuck (did
// not end by itself once the faults stopped); other failures fail t.
// seconds counts the second faults that struck (a resume that starts no
// step, e.g. one that only finishes the run, gives a second fault no place).
func runCrashCell(t *testing.T, sh crashShape, ref crashReference, c crashCell, seconds *atomic.Int32) (stuck bool) {
	h := newCrashHost(t, sh)
	var log strings.Builder
	for _, args := range sh.runs[:c.run] {
		code, out := h.runUpgrade(nil, args...)
		h.assertDone(code, out)
	}
	orphan := 0
	if c.trial != nil {
		c.trial(h, &log)
	} else {
		orphan = h.firstFault(c, sh.runs[c.run], &log)
	}
	if c.second && h.secondFault(c, &log) {
		seconds.Add(1)
	}
	// Recovery: boot if the host went down, then apply until done.
	code := 0
	if j := h.journal(); j == nil || j.Status != steps.StatusDone {
		var out string
		code, out = h.runUpgrade(nil)
		log.WriteString(out)
	}
	if j := h.journal(); j != nil && j.FellBack {
		// A fault struck the trial boot: the old boot environment came
		// back and the run ended there; the admin starts it again.
		code = h.retryAfterFallback(sh.runs[c.run], &log)
	} else if c.trial != nil {
		t.Errorf("the trial failed, but the run did not end in the old boot environment saying so (%s: %s):\n%s", j.Status, j.Message, log.String())
	}
	if j := h.journal(); code != 0 || j == nil || j.Status != steps.StatusDone {
		status := "no journal"
		if j != nil {
			status = string(j.Status) + ": " + j.Message
		}
		t.Errorf("stuck: the run did not end by itself (exit %d, %s):\n%s", code, status, log.String())
		return true
	}
	if orphan != 0 {
		h.assertNothingBeside(orphan, log.String())
	}
	for _, args := range sh.runs[c.run+1:] {
		code, out := h.runUpgrade(nil, args...)
		h.assertDone(code, out)
	}
	h.assertBootsEverywhere(sh.target)
	if got := h.summary(); got != ref.summary {
		t.Errorf("the host differs from the run without faults:\n got:\n%s\nwant:\n%s\nlog:\n%s", got, ref.summary, log.String())
	}
	if got := h.backups(); got != ref.backups {
		t.Errorf("%d backup boot environments, the run without faults made %d:\n%s", got, ref.backups, log.String())
	}
	return false
}

// firstFault runs apply with args into the cell's fault. It returns the
// pid of the command that a killed zupgrade left running, if any.
func (h *testHost) firstFault(c crashCell, args []string, log *strings.Builder) int {
	h.t.Helper()
	if c.point != pointMidCommand {
		_, out := h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + c.step.ID + ":" + c.point}, args...)
		log.WriteString(out)
		if j := h.journal(); j == nil || j.Status == steps.StatusDone {
			h.t.Fatalf("the crash point %s:%s was never reached:\n%s", c.step.ID, c.point, out)
		}
		if c.fault == faultPower {
			h.cutPowerAfterKill(log)
		}
		return 0
	}
	// Stop just after the step started (before the end of the run
	// starts), then let apply run it again into the fault.
	stop := steps.AfterStarted
	if c.step.ID == steps.StepFinish {
		stop = steps.BeforeStart
	}
	_, out := h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + c.step.ID + ":" + string(stop)}, args...)
	log.WriteString(out)
	if j := h.journal(); j.Status == steps.StatusDone || c.step.ID != steps.StepFinish && j.Record(c.step.ID).State != steps.StepStarted {
		h.t.Fatalf("the step %s was never reached:\n%s", c.step.ID, out)
	}
	// The command as this host's own plan has it (the backup's name and
	// the state directory differ from the reference run's). A command the
	// step chose as it ran (zpool set feature@...) is the same on every
	// host.
	cmd := c.ran
	if slices.Equal(cmd, firstMutation(c.step)) {
		for _, ps := range h.journal().Plan.Steps {
			if ps.ID == c.step.ID {
				cmd = firstMutation(ps)
			}
		}
	}
	f := simhost.Fault{Command: cmd[0], Args: strings.Join(cmd[1:], " "), Action: simhost.FaultPowerCut}
	if c.fault == faultKill {
		f.Action, f.Message = simhost.FaultHang, hangMessage
	}
	if err := h.m.AddFault(f); err != nil {
		h.t.Fatal(err)
	}
	if c.fault == faultKill {
		return h.killMidCommand(cmd, log)
	}
	h.powerCutMidCommand(c.step.ID, cmd, log)
	return 0
}

// cutPowerAfterKill cuts the power of a host whose zupgrade was just killed
// at a crash point: nothing ran since, so the host is as a power cut at
// that point leaves it. A host already down stays down.
func (h *testHost) cutPowerAfterKill(log *strings.Builder) {
	h.t.Helper()
	if h.down() {
		return
	}
	if err := h.m.PowerCut(); err != nil {
		h.t.Fatal(err)
	}
	log.WriteString("--- power cut\n")
}

// secondFault resumes the run after the first fault into a second fault
// of the other kind: zupgrade is killed once the journal says that the
// first step the resume runs has started, and the power cut then for a
// power fault. It reports whether the fault struck.
func (h *testHost) secondFault(c crashCell, log *strings.Builder) bool {
	h.t.Helper()
	env := []string{"ZUPGRADE_CRASH_AT=*:" + string(steps.AfterStarted)}
	struck := false
	if h.down() {
		// The boot hook resumes the run.
		rep := h.boot(simhost.BootOptions{Env: env})
		for _, hk := range rep.Hooks {
			fmt.Fprintf(log, "\n--- boot, hook exit %d\n%s", hk.Exit, hk.Output)
		}
		for _, p := range h.wait() {
			if slices.Contains(p.Argv, "--resume") {
				data, _ := os.ReadFile(filepath.Join(h.state, "resume.log"))
				fmt.Fprintf(log, "--- resumed run %v: %s, exit %d\n%s", p.Argv, p.State, p.Exit, data)
				os.Remove(filepath.Join(h.state, "resume.log"))
				struck = struck || p.Exit == 128+int(syscall.SIGKILL)
			}
		}
	} else {
		code, out := h.zupgrade(env, "apply")
		log.WriteString(out)
		struck = code == -1
	}
	if !struck {
		return false // the resume started no step
	}
	if otherFault(c.fault) == faultPower {
		h.cutPowerAfterKill(log)
	}
	return true
}

// backupName matches the names of the backup boot environments zupgrade
// makes (bootenv.BackupName): zupgrade-, the releases, a UTC time stamp.
var backupName = regexp.MustCompile(`^zupgrade-.+-[0-9]{8}T[0-9]{6}$`)

// backups counts the host's backup boot environments (zupgrade's names).
func (h *testHost) backups() int {
	h.t.Helper()
	n := 0
	for _, l := range strings.Split(h.sh("bectl", "list", "-H"), "\n") {
		if f := strings.Fields(l); len(f) > 0 && backupName.MatchString(f[0]) {
			n++
		}
	}
	return n
}

// hangMessage is what a command hung by the crash matrix prints before it
// waits to be killed, so that the test knows it is running.
const hangMessage = "simulated hang: waiting until killed"

// machineRun is zupgrade started as a process of the test host.
type machineRun struct {
	p    *simhost.Process
	hung chan struct{} // closed when the output shows hangMessage
	done chan struct{} // closed when the output ended
	out  strings.Builder
	mu   sync.Mutex
}

// startZupgrade starts zupgrade as a process of the test host and follows
// its output.
func (h *testHost) startZupgrade(env []string, args ...string) *machineRun {
	h.t.Helper()
	cmd := exec.Command(h.exe, append([]string{"--state-dir", h.state}, args...)...)
	cmd.Env = append(h.m.Env(), env...)
	cmd.Dir = h.m.Root
	pr, pw, err := os.Pipe()
	if err != nil {
		h.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	p, err := h.m.Start(cmd)
	pw.Close()
	if err != nil {
		h.t.Fatal(err)
	}
	r := &machineRun{p: p, hung: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		seen := false
		for sc.Scan() {
			r.mu.Lock()
			r.out.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if !seen && strings.Contains(sc.Text(), hangMessage) {
				seen = true
				close(r.hung)
			}
		}
	}()
	return r
}

// output is what the run printed so far.
func (r *machineRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// killMidCommand runs apply into the hang fault on args, waits until the
// command hangs, checks that the machine runs it, then kills zupgrade with
// SIGKILL as an admin would (kill -9 PID). The hung command survives it,
// as on a real host; killMidCommand returns its pid.
func (h *testHost) killMidCommand(args []string, log *strings.Builder) int {
	h.t.Helper()
	r := h.startZupgrade(nil, "apply")
	select {
	case <-r.hung:
	case <-r.done:
		r.p.Wait()
		log.WriteString(r.output())
		h.t.Fatalf("apply ended before %q hung:\n%s", strings.Join(args, " "), log.String())
	}
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	var hung *simhost.Command
	for i := range model.History {
		if c := &model.History[i]; c.Waiting && strings.Join(c.Argv, " ") == strings.Join(args, " ") {
			hung = c
		}
	}
	if hung == nil || hung.Pid == 0 || syscall.Kill(hung.Pid, 0) != nil {
		h.t.Fatalf("%q is not running on the machine (history: %+v)", strings.Join(args, " "), hung)
	}
	h.t.Cleanup(h.killMachineProcesses)
	r.p.Cmd.Process.Kill()
	r.p.Wait()
	<-r.done
	log.WriteString(r.output())
	if syscall.Kill(hung.Pid, 0) != nil {
		h.t.Fatalf("%q ended with zupgrade", strings.Join(args, " "))
	}
	return hung.Pid
}

// assertNothingBeside checks that no command that changes the host ran
// beside the command of pid, which a killed zupgrade left running: the
// next apply must stop it (or wait for it) before it goes on. Probes that
// only read the host (the boot environment the lock's owner names) may.
func (h *testHost) assertNothingBeside(pid int, log string) {
	h.t.Helper()
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range model.History {
		if slices.Contains(c.Beside, pid) && !host.ReadOnly(c.Argv) {
			h.t.Errorf("%q ran while %d, left running by the killed zupgrade, still ran:\n%s", strings.Join(c.Argv, " "), pid, log)
			return
		}
	}
}

// powerCutMidCommand runs apply into the power cut during args and checks
// that the cut ended zupgrade at once: killed, its journal as the cut
// left it (the step started, the run not marked failed).
func (h *testHost) powerCutMidCommand(step string, args []string, log *strings.Builder) {
	h.t.Helper()
	r := h.startZupgrade(nil, "apply")
	err := r.p.Wait()
	<-r.done
	log.WriteString(r.output())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		h.t.Fatalf("zupgrade outlived the power cut during %q (%v):\n%s", strings.Join(args, " "), err, log.String())
	}
	if !h.down() {
		h.t.Fatalf("the power cut during %q never came:\n%s", strings.Join(args, " "), log.String())
	}
	j := h.journal()
	if j.Status == steps.StatusFailed || step != steps.StepFinish && j.Record(step).State != steps.StepStarted {
		h.t.Errorf("journal after the power cut: %s (%s) during step %s; a cut leaves the step started", j.Status, j.Message, step)
	}
}

// firstMutationsRun reads the run log and returns, for each step, the
// first command it ran that changes the host (directories and mounts
// aside: the boot code check mounts ESPs to read them).
func (h *testHost) firstMutationsRun() map[string][]string {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join(h.state, "logs", h.journal().RunID+".json"))
	if err != nil {
		h.t.Fatalf("run log: %v", err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct{ Msg, Step, Cmd string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			h.t.Fatalf("run log line %q: %v", line, err)
		}
		args := strings.Fields(rec.Cmd)
		if rec.Msg != "command" || out[rec.Step] != nil || strings.ContainsAny(rec.Cmd, "'\"\\") || host.ReadOnly(args) || slices.Contains([]string{"mkdir", "mount_msdosfs", "umount"}, args[0]) {
			continue
		}
		out[rec.Step] = args
	}
	return out
}

// firstMutation returns the argv of the step's first command that changes
// the host, or nil.
func firstMutation(s steps.Step) []string {
	for _, c := range s.Commands {
		if !host.ReadOnly(c.Args) && c.Args[0] != "mkdir" {
			return c.Args
		}
	}
	return nil
}

// killMachineProcesses kills every process left running on the simulated
// host (a command hung by a fault outlives the zupgrade that started it, as
// on a real host), when the test ends. It finds them by SIMHOST_ROOT in
// /proc/PID/environ; the test host is Linux.
func (h *testHost) killMachineProcesses() {
	entries, _ := os.ReadDir("/proc")
	marker := []byte(simhost.RootEnv + "=" + h.m.Root + "\x00")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// TestCrashShard: ZUPGRADE_CRASH_MATRIX names the whole matrix, a shard of
// it, or nothing; anything else is refused rather than run as the sample.
func TestCrashShard(t *testing.T) {
	for _, c := range []struct {
		mode          string
		shard, shards int
		bad           bool
	}{
		{mode: ""}, {mode: "full"}, {mode: "2/3", shard: 2, shards: 3}, {mode: "1/1", shard: 1, shards: 1},
		{mode: "0/3", bad: true}, {mode: "4/3", bad: true}, {mode: "x/3", bad: true}, {mode: "everything", bad: true},
	} {
		k, n, err := crashShard(c.mode)
		if (err != nil) != c.bad || k != c.shard || n != c.shards {
			t.Errorf("crashShard(%q) = %d, %d, %v", c.mode, k, n, err)
		}
	}
}
