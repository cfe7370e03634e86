// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Backend runs jobs on one scenario's machine: each Launch is one start
// of the machine (one QEMU process for the Linux guest).
type Backend interface {
	// Name says what runs the machine ("in-process", "linux-guest/TCG").
	Name() string
	// Launch runs the job. A job cut by a power failure returns with
	// Cut set; the next launch finds the machine as the cut left it.
	Launch(ctx context.Context, job Job) (*JobResult, error)
}

// maxBoots bounds the boots of one run (a run that never ends).
const maxBoots = 8

// Result is a scenario's run on one back-end.
type Result struct {
	Scenario string
	Backend  string
	Outcome  *Outcome
	Boots    int
	Cuts     int
	// Failures are the differences from the expectation.
	Failures []string
	// Log is every launch's job and output, in order.
	Log string
	// Launches holds the wall time of each launch, in order.
	Launches []time.Duration
}

// Passed reports whether the scenario ended as expected.
func (r *Result) Passed() bool { return len(r.Failures) == 0 }

// Execute runs the scenario on b and judges it.
func Execute(ctx context.Context, sc *Scenario, b Backend) (*Result, error) {
	res := &Result{Scenario: sc.Name, Backend: b.Name()}
	var log strings.Builder
	launch := func(job Job) (*JobResult, error) {
		job.StateDir = sc.StateDir
		start := time.Now()
		jr, err := b.Launch(ctx, job)
		res.Launches = append(res.Launches, time.Since(start))
		if err != nil {
			return nil, fmt.Errorf("launch %d (%s): %w", len(res.Launches), job.Kind, err)
		}
		fmt.Fprintf(&log, "=== launch %d: %s %s -> exit %d, journal %q, cut %v, down %v\n%s\n",
			len(res.Launches), job.Kind, strings.Join(job.Apply, " "), jr.Exit, jr.Journal, jr.Cut, jr.Down, jr.Output)
		if jr.Cut {
			res.Cuts++
		}
		return jr, nil
	}
	journal := ""
	for i, run := range sc.Runs {
		if run.UnlessDone && journal == "done" {
			continue
		}
		job := Job{Kind: JobApply, Apply: run.Apply}
		if i == 0 {
			job.Arm = sc.initialFaults()
			for _, f := range sc.Faults {
				if f.Kind == KindRemoveDisk && f.Command == "" && f.BeforeBoot == 0 {
					// Missing from the start: gone before the first run.
					job.Remove = append(job.Remove, f.Disk)
				}
			}
		}
		for _, f := range sc.Faults {
			if f.Kind == KindReplaceDisk && f.BeforeRun == i && i > 0 {
				job.Replace = append(job.Replace, f.replacement())
			}
		}
		for _, f := range sc.Faults {
			if f.Point != "" && f.Boot == 0 && f.Run == i {
				job.CrashAt, job.CrashIsCut = f.Point, f.Kind == KindPowerCut
			}
		}
		jr, err := launch(job)
		if err != nil {
			return nil, err
		}
		journal = jr.Journal
		for jr.Down {
			if res.Boots == maxBoots {
				res.Failures = append(res.Failures, fmt.Sprintf("the run does not end after %d boots", maxBoots))
				res.Log = log.String()
				return res, nil
			}
			res.Boots++
			bj := Job{Kind: JobBoot}
			for _, f := range sc.Faults {
				if f.Point != "" && f.Boot == res.Boots {
					bj.CrashAt, bj.CrashIsCut = f.Point, f.Kind == KindPowerCut
				}
				if f.BeforeRun != 0 || f.BeforeBoot != res.Boots {
					continue
				}
				switch {
				case f.Kind == KindRemoveDisk && f.Command == "":
					bj.Remove = append(bj.Remove, f.Disk)
				case f.Kind == KindReplaceDisk:
					bj.Replace = append(bj.Replace, f.replacement())
				default:
					bj.Arm = append(bj.Arm, f.simhost())
				}
			}
			if jr, err = launch(bj); err != nil {
				return nil, err
			}
			journal = jr.Journal
			if !jr.Booted && !jr.Cut {
				res.Failures = append(res.Failures, "the machine does not boot: "+jr.Reason)
				res.Log = log.String()
				return res, nil
			}
		}
	}
	// Disks pulled out or replaced after the runs' last boot: before the
	// observation, whose boots find the machine so.
	obs := Job{Kind: JobObserve}
	for _, f := range sc.Faults {
		if f.BeforeRun == 0 && f.Command == "" && f.BeforeBoot > res.Boots {
			switch f.Kind {
			case KindRemoveDisk:
				obs.Remove = append(obs.Remove, f.Disk)
			case KindReplaceDisk:
				obs.Replace = append(obs.Replace, f.replacement())
			}
		}
	}
	jr, err := launch(obs)
	if err != nil {
		return nil, err
	}
	res.Outcome = jr.Outcome
	res.Failures = append(res.Failures, sc.Expect.Check(jr.Outcome, res.Boots)...)
	res.Log = log.String()
	return res, nil
}

// simhost is the fault as simhost arms it.
func (f Fault) simhost() simhost.Fault {
	if f.Kind == KindRemoveDisk {
		return simhost.Fault{Command: f.Command, Args: f.Args, After: f.After, Action: simhost.FaultRemoveDisk, Disk: f.Disk}
	}
	return simhost.Fault{Command: f.Command, Args: f.Args, After: f.After, Action: simhost.FaultPowerCut}
}

// replacement is the disk replacement as simhost makes it.
func (f Fault) replacement() simhost.Replacement {
	return simhost.Replacement{Disk: f.Disk, Bootcode: f.Bootcode, Labels: f.Labels}
}

// initialFaults are the simhost faults armed when the machine is made.
func (sc *Scenario) initialFaults() []simhost.Fault {
	var out []simhost.Fault
	for _, f := range sc.Faults {
		if (f.Kind == KindPowerCut && f.Point == "" || f.Kind == KindRemoveDisk && f.Command != "") && f.BeforeBoot == 0 {
			out = append(out, f.simhost())
		}
	}
	return out
}
