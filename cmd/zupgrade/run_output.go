// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/charmbracelet/log"
	"github.com/creack/pty"
	"github.com/mattn/go-isatty"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
)

// runOutput is how apply and rollback show what they do on standard
// output: JSON Lines with --json, a status line on a terminal, plain lines
// otherwise. Heartbeats come from a ticker of one second.
type runOutput struct {
	json   bool
	status *progress.Status
	ticker *time.Ticker
	pulse  *progress.Pulse
	// restoreLog gives the log its standard error back, when the status
	// line took it.
	restoreLog func()
}

// newRunOutput picks the renderer for env's standard output. With a status
// line, logger's lines to the same terminal go above it.
func newRunOutput(env Env, asJSON bool, logger *log.Logger) *runOutput {
	o := &runOutput{json: asJSON, ticker: time.NewTicker(time.Second)}
	var r progress.Sink
	switch {
	case asJSON:
		r = progress.NewJSONLines(env.Stdout)
	case isTerminal(env.Stdout):
		_, cols, _ := pty.Getsize(terminal(env.Stdout))
		o.status = progress.NewStatus(env.Stdout, cols)
		r = o.status
		if isTerminal(env.Stderr) {
			// Never the *os.File itself: the logger would ask the
			// terminal for its colours (newLogger).
			logger.SetOutput(o.status.Above(env.Stderr))
			logger.SetColorProfile(logColours(env))
			o.restoreLog = func() {
				logger.SetOutput(&stderrWriter{w: env.Stderr})
				logger.SetColorProfile(logColours(env))
			}
		}
	default:
		r = progress.NewPlain(env.Stdout)
	}
	o.pulse = progress.NewPulse(r, o.ticker.C)
	return o
}

// isTerminal reports whether w writes to a terminal.
func isTerminal(w io.Writer) bool {
	f := terminal(w)
	return f != nil && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// terminal returns the file w writes to, seen through Main's watchedWriter,
// or nil.
func terminal(w io.Writer) *os.File {
	if ww, ok := w.(*watchedWriter); ok {
		w = ww.w
	}
	f, _ := w.(*os.File)
	return f
}

// emit sends an event, stamped now, to the renderer.
func (o *runOutput) emit(e progress.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	o.pulse.Emit(e)
}

// end stops the heartbeats and, with --json, reports err as the last
// event; it returns err.
func (o *runOutput) end(err error) error {
	if err != nil && o.json {
		o.emit(progress.Event{Kind: progress.Error, Text: err.Error(), ExitCode: exitCode(err)})
	}
	o.pulse.Stop()
	o.ticker.Stop()
	if o.status != nil {
		o.status.End()
	}
	if o.restoreLog != nil {
		o.restoreLog()
	}
	return err
}

// run runs a command of rollback through r, its output streamed to the
// renderer; a command that exits non-zero is an error.
func (o *runOutput) run(ctx context.Context, r host.Runner, args ...string) error {
	start := time.Now()
	o.emit(progress.Event{Kind: progress.CommandStarted, Time: start, Argv: args})
	lines := &progress.Lines{Emit: o.emit, Now: time.Now}
	res, err := r.Run(ctx, host.Command{Args: args, Output: lines})
	lines.Flush()
	ended := progress.Event{Kind: progress.CommandEnded, Argv: args, Exit: res.ExitCode, Elapsed: time.Since(start)}
	if err != nil {
		ended.Text = err.Error()
	}
	o.emit(ended)
	if err == nil && !res.OK() {
		err = &host.ExitError{Line: host.QuoteArgs(args), ExitCode: res.ExitCode, Stderr: string(res.Stderr)}
	}
	return err
}
