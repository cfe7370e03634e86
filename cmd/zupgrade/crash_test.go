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

// crashSpec is the host of the crash matrix: a BIOS+UEFI 2-way mirror with
// both ESPs formatted, upgraded across a major release so that every step
// of the catalog runs.
var crashSpec = simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Disks: 2, ESPs: "all"}

const crashTarget = "14.2-RELEASE"

// TestCrashMatrix interrupts an upgrade at every step and every point of
// it: before the step starts, once the journal says it started, in the
// middle of its first command that changes the host (zupgrade killed with
// SIGKILL, or the power cut), and after its effect but before the journal
// says so. Then the host is booted if it went down, and the admin runs
// zupgrade apply until the run ends. Every cell must end with a host that
// boots the target from every disk and looks exactly like the host of the
// run without faults.
func TestCrashMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash matrix runs dozens of whole upgrades; not in -short")
	}
	ref := newHost(t, crashSpec)
	code, log := ref.runUpgrade(nil, "--to", crashTarget)
	ref.assertDone(code, log)
	want := ref.summary()
	plan := ref.journal().Plan
	ran := ref.firstMutationsRun()

	type cell struct {
		name   string
		step   steps.Step
		point  steps.CrashPoint // kill at a point of the engine
		midCmd string           // or "kill" / "power" during the first mutating command
	}
	var cells []cell
	for i, s := range plan.Steps {
		rec := ref.journal().Steps[i]
		if rec.State == steps.StepSkipped {
			continue
		}
		if rec.Attempts == 0 {
			// Its effect was there before it started (nothing to do on
			// this host): only the point before it exists.
			cells = append(cells, cell{name: s.ID + "/kill-" + string(steps.BeforeStart), step: s, point: steps.BeforeStart})
			continue
		}
		for _, p := range []steps.CrashPoint{steps.BeforeStart, steps.AfterStarted, steps.AfterRun} {
			if s.Checkpoint && p == steps.AfterRun {
				continue // a checkpoint ends the process by rebooting
			}
			cells = append(cells, cell{name: s.ID + "/kill-" + string(p), step: s, point: p})
		}
		if ran[s.ID] != nil {
			cells = append(cells, cell{name: s.ID + "/power-cut-mid-command", step: s, midCmd: "power"})
			cells = append(cells, cell{name: s.ID + "/kill-mid-command", step: s, midCmd: "kill"})
		}
	}
	var passed atomic.Int32
	t.Run("cells", func(t *testing.T) {
		for _, c := range cells {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				h := newHost(t, crashSpec)
				var log strings.Builder
				if c.point != "" {
					_, out := h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + c.step.ID + ":" + string(c.point)}, "--to", crashTarget)
					log.WriteString(out)
					if h.journal().Status == steps.StatusDone {
						t.Fatalf("the crash point %s:%s was never reached:\n%s", c.step.ID, c.point, out)
					}
				} else {
					// Stop just after the step started, then let apply
					// run it again into the fault.
					_, out := h.runUpgrade([]string{"ZUPGRADE_CRASH_AT=" + c.step.ID + ":" + string(steps.AfterStarted)}, "--to", crashTarget)
					log.WriteString(out)
					if r := h.journal().Record(c.step.ID); r == nil || r.State != steps.StepStarted {
						t.Fatalf("the step %s was never reached:\n%s", c.step.ID, out)
					}
					// The command as this host's own plan has it (the
					// backup's name and the state directory differ from
					// the reference run's).
					// A command the step chose as it ran (zpool set
					// feature@...) is the same on every host.
					args := ran[c.step.ID]
					if slices.Equal(args, firstMutation(c.step)) {
						for _, ps := range h.journal().Plan.Steps {
							if ps.ID == c.step.ID {
								args = firstMutation(ps)
							}
						}
					}
					f := simhost.Fault{Command: args[0], Args: strings.Join(args[1:], " "), Action: simhost.FaultPowerCut}
					if c.midCmd == "kill" {
						f.Action, f.Message = simhost.FaultHang, hangMessage
					}
					if err := h.m.AddFault(f); err != nil {
						t.Fatal(err)
					}
					if c.midCmd == "kill" {
						h.killMidCommand(args, &log)
					} else {
						h.powerCutMidCommand(c.step.ID, args, &log)
					}
				}
				// Recovery: boot if the host went down, then apply until done.
				code, out := h.runUpgrade(nil)
				log.WriteString(out)
				h.assertDone(code, log.String())
				h.assertBootsEverywhere(crashTarget)
				if got := h.summary(); got != want {
					t.Errorf("the host differs from the run without faults:\n got:\n%s\nwant:\n%s\nlog:\n%s", got, want, log.String())
				}
				if !t.Failed() {
					passed.Add(1)
				}
			})
		}
	})
	t.Logf("crash matrix: %d cells, %d passed", len(cells), passed.Load())
	fmt.Fprintf(os.Stderr, "crash matrix: %d cells, %d passed\n", len(cells), passed.Load())
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
// SIGKILL as an admin would, and the hung command after it.
func (h *testHost) killMidCommand(args []string, log *strings.Builder) {
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
	r.p.Cmd.Process.Kill()
	r.p.Wait()
	<-r.done
	log.WriteString(r.output())
	h.killMachineProcesses()
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
	if j.Status == steps.StatusFailed || j.Record(step).State != steps.StepStarted {
		h.t.Errorf("journal after the power cut: %s (%s), step %s %s; a cut leaves the step started", j.Status, j.Message, step, j.Record(step).State)
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
// on a real host). It finds them by SIMHOST_ROOT in /proc/PID/environ; the
// test host is Linux.
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
