package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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
		if firstMutation(s) != nil {
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
					var args []string
					for _, ps := range h.journal().Plan.Steps {
						if ps.ID == c.step.ID {
							args = firstMutation(ps)
						}
					}
					f := simhost.Fault{Command: args[0], Args: strings.Join(args[1:], " "), Action: simhost.FaultPowerCut}
					if c.midCmd == "kill" {
						f.Action = simhost.FaultHang
					}
					if err := h.m.AddFault(f); err != nil {
						t.Fatal(err)
					}
					_, out = h.zupgradeFor(3*time.Second, nil, "apply")
					log.WriteString(out)
					h.killMachineProcesses()
					if h.journal().Status == steps.StatusDone {
						t.Fatalf("the fault on %q never fired:\n%s", strings.Join(args, " "), log.String())
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
