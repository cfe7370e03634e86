// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
	"github.com/zupgrade/zupgrade/vmtest/simrun"
)

// simHost is a simulated machine and what drives zupgrade's engine on it.
type simHost struct {
	t      *testing.T
	m      *simhost.Machine
	r      *simrun.Runner
	store  steps.Store
	out    bytes.Buffer
	boots  int
	events []string
	// binary is Engine.Binary.
	binary string
}

func newSimHost(t *testing.T, spec simhost.Spec) *simHost {
	t.Helper()
	if testing.Short() {
		t.Skip("a whole run on a simulated host (-short)")
	}
	m, err := simhost.New(t.TempDir(), spec, "")
	if err != nil {
		t.Fatalf("simhost.New(%+v): %v", spec, err)
	}
	h := &simHost{t: t, m: m, r: &simrun.Runner{M: m}}
	// The state directory is on the machine: the boot hook's files are
	// installed from there by the host's install(1).
	h.store = steps.Store{Dir: filepath.Join(m.Root, "var", "db", "zupgrade")}
	return h
}

// plan inspects the host and plans for it.
func (h *simHost) plan(opts steps.Options) *steps.Plan {
	h.t.Helper()
	f, err := facts.Gather(context.Background(), host.ReadOnlyRunner{Next: h.r})
	if err != nil {
		h.t.Fatalf("gather: %v", err)
	}
	opts.StateDir = h.store.Dir
	if opts.Now.IsZero() {
		opts.Now = time.Date(2026, 11, 26, 13, 5, 9, 0, time.UTC)
	}
	p := steps.Build(f, opts)
	if p.Blocked() {
		for _, c := range p.Checks {
			if c.Verdict == steps.Block {
				h.t.Errorf("check %s blocks: %s", c.ID, c.Reason)
			}
		}
		h.t.Fatal("the plan is blocked")
	}
	return p
}

// engine returns an engine for the host; crash, when set, is its Crash.
func (h *simHost) engine(resume bool, crash func(string, steps.CrashPoint)) *steps.Engine {
	return &steps.Engine{Runner: h.r, Store: h.store, Events: progress.NewPlain(&h.out), Resume: resume, Crash: crash, Binary: h.binary}
}

// boot reboots the machine (without its rc.d hooks: the test resumes the
// run itself, as the hook would) and fails the test if it does not come
// up.
func (h *simHost) boot() {
	h.t.Helper()
	rep, err := h.m.Boot(simhost.BootOptions{NoHooks: true})
	if err != nil {
		h.t.Fatalf("boot: %v", err)
	}
	if !rep.Booted {
		h.t.Fatalf("the host does not boot: %s\n%s", rep.Reason, h.out.String())
	}
	h.boots++
}

// errCrash is the panic a test's Crash hook raises to stop the engine.
var errCrash = errors.New("crash")

// run applies the journal until the run finishes, rebooting at every
// checkpoint; crashAt, when set, stops the engine once at that step and
// point, after which the run is resumed from the journal on disk as a
// new process would.
func (h *simHost) run(p *steps.Plan, crashStep string, crashAt steps.CrashPoint) *steps.Journal {
	h.t.Helper()
	unlock, err := h.store.Lock()
	if err != nil {
		h.t.Fatal(err)
	}
	defer unlock()
	j := steps.NewJournal(p, p.Options.Now)
	if err := h.store.Save(j); err != nil {
		h.t.Fatal(err)
	}
	crashed := crashStep == ""
	crash := func(step string, at steps.CrashPoint) {
		if !crashed && step == crashStep && at == crashAt {
			crashed = true
			panic(errCrash)
		}
	}
	resume := false
	for range 20 {
		out, err := h.apply(j, resume, crash)
		switch {
		case errors.Is(err, errCrash):
			h.events = append(h.events, "crash "+crashStep+" "+string(crashAt))
			// A new process reads the journal the crashed one left.
			if j, err = h.store.Load(); err != nil {
				h.t.Fatal(err)
			}
			continue
		case err != nil:
			h.t.Fatalf("apply: %v\n%s", err, h.out.String())
		case out == steps.Finished:
			if !crashed {
				h.t.Errorf("the run never reached %s %s", crashStep, crashAt)
			}
			return j
		case out == steps.Rebooting:
			h.events = append(h.events, "reboot at "+j.Current().ID)
			h.boot()
			resume = true
			if j, err = h.store.Load(); err != nil {
				h.t.Fatal(err)
			}
		default:
			h.t.Fatalf("apply ended %v", out)
		}
	}
	h.t.Fatalf("the run does not end: %v\n%s", h.events, h.out.String())
	return nil
}

// apply runs Engine.Apply once, turning the crash hook's panic into
// errCrash.
func (h *simHost) apply(j *steps.Journal, resume bool, crash func(string, steps.CrashPoint)) (out steps.Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			if r != errCrash {
				panic(r)
			}
			err = errCrash
		}
	}()
	return h.engine(resume, crash).Apply(context.Background(), j)
}

// versions runs freebsd-version -kru on the host.
func (h *simHost) versions() string {
	h.t.Helper()
	out, err := host.Output(context.Background(), h.r, "freebsd-version", "-kru")
	if err != nil {
		h.t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}
