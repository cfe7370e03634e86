// SPDX-License-Identifier: BSD-2-Clause

// Package simrun runs zupgrade's host commands (host.Command) on a
// simulated machine in this process, through simhost's Machine.Exec, as
// host.ExecRunner runs them as processes on a real host. Tests drive
// zupgrade's engine and whole commands with it, without a process per
// command.
package simrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Runner is a host.Runner of a simulated machine. The environment of each
// command is made as host.ExecRunner makes it: Env, LC_ALL=C, then the
// command's own. Output gets both streams as they come. A command with a
// Dialog reads its terminal from standard input (simhost.TTYEnv) and is
// answered by the Dialog.
type Runner struct {
	M   *simhost.Machine
	Env []string

	// mu guards log, every command line run, in order.
	mu  sync.Mutex
	log []string
}

// Run implements host.Runner.
func (r *Runner) Run(ctx context.Context, cmd host.Command) (host.Result, error) {
	if len(cmd.Args) == 0 {
		return host.Result{}, errors.New("empty command")
	}
	r.mu.Lock()
	r.log = append(r.log, cmd.Line())
	r.mu.Unlock()
	env := map[string]string{}
	for _, kv := range append(append(slices.Clone(r.Env), "LC_ALL=C"), cmd.Env...) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var out, errb bytes.Buffer
	var stdout, stderr io.Writer = &out, &errb
	if cmd.Output != nil {
		stdout, stderr = io.MultiWriter(&out, cmd.Output), io.MultiWriter(&errb, cmd.Output)
	}
	if cmd.Dialog == nil {
		code := r.M.Exec(ctx, cmd.Args, bytes.NewReader(cmd.Stdin), stdout, stderr, env)
		return host.Result{Stdout: out.Bytes(), Stderr: errb.Bytes(), ExitCode: code}, nil
	}
	// On a terminal both streams arrive together; what the program prints
	// goes to the Dialog, whose answers are typed on its standard input.
	env[simhost.TTYEnv] = "stdin"
	inR, inW := io.Pipe()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	term := &terminal{out: stdout, dialog: cmd.Dialog, answer: inW, stop: cancel}
	code := r.M.Exec(cctx, cmd.Args, inR, term, term, env)
	inW.Close()
	res := host.Result{Stdout: out.Bytes(), ExitCode: code}
	if term.stopped {
		res.ExitCode = -1
		return res, fmt.Errorf("%s: %w", cmd.Line(), host.ErrStopped)
	}
	return res, nil
}

// Commands returns the command lines run so far that start with prefix.
func (r *Runner) Commands(prefix string) []string {
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

// terminal is the terminal of a command run with a Dialog.
type terminal struct {
	mu      sync.Mutex
	out     io.Writer
	screen  bytes.Buffer
	dialog  host.Dialog
	answer  *io.PipeWriter
	stop    func()
	stopped bool
}

func (w *terminal) Write(p []byte) (int, error) {
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
