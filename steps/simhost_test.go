// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// simRunner runs commands on a simulated host in process (Machine.Exec),
// as host.ExecRunner runs them on a real one: Output gets both streams as
// they come, a command with a Dialog reads its terminal from standard
// input (simhost.TTYEnv) and is answered by it.
type simRunner struct {
	m *simhost.Machine
	// log records every command line run, in order.
	mu  sync.Mutex
	log []string
}

func (r *simRunner) Run(ctx context.Context, cmd host.Command) (host.Result, error) {
	r.mu.Lock()
	r.log = append(r.log, cmd.Line())
	r.mu.Unlock()
	env := map[string]string{"LC_ALL": "C"}
	for _, kv := range cmd.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var out, errb bytes.Buffer
	var stdout, stderr io.Writer = &out, &errb
	if cmd.Output != nil {
		stdout, stderr = io.MultiWriter(&out, cmd.Output), io.MultiWriter(&errb, cmd.Output)
	}
	if cmd.Dialog == nil {
		code := r.m.Exec(ctx, cmd.Args, bytes.NewReader(cmd.Stdin), stdout, stderr, env)
		return host.Result{Stdout: out.Bytes(), Stderr: errb.Bytes(), ExitCode: code}, nil
	}
	// On a terminal both streams arrive together; what the program prints
	// goes to the Dialog, whose answers are typed on its standard input.
	env[simhost.TTYEnv] = "stdin"
	inR, inW := io.Pipe()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	term := &dialogWriter{out: stdout, dialog: cmd.Dialog, answer: inW, stop: cancel}
	code := r.m.Exec(cctx, cmd.Args, inR, term, term, env)
	inW.Close()
	res := host.Result{Stdout: out.Bytes(), ExitCode: code}
	if term.stopped {
		res.ExitCode = -1
		return res, fmt.Errorf("%s: %w", cmd.Line(), host.ErrStopped)
	}
	return res, nil
}

// commands returns the command lines run so far that start with prefix.
func (r *simRunner) commands(prefix string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.log {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// dialogWriter is the terminal of a command run with a Dialog.
type dialogWriter struct {
	mu      sync.Mutex
	out     io.Writer
	screen  bytes.Buffer
	dialog  host.Dialog
	answer  *io.PipeWriter
	stop    func()
	stopped bool
}

func (w *dialogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Write(p)
	w.screen.Write(p)
	answer, stop := w.dialog(w.screen.String())
	switch {
	case stop:
		w.stopped = true
		w.stop()
		w.answer.CloseWithError(host.ErrStopped)
	case answer != "":
		w.screen.Reset()
		// The program reads the answer after this write returns.
		go w.answer.Write([]byte(answer))
	}
	return len(p), nil
}

// simHost is a simulated machine and what drives zupgrade's engine on it.
type simHost struct {
	t      *testing.T
	m      *simhost.Machine
	r      *simRunner
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
	h := &simHost{t: t, m: m, r: &simRunner{m: m}}
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

// model reads the machine's state.
func (h *simHost) model() *simhost.Model {
	h.t.Helper()
	md, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	return md
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
