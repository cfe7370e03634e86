// SPDX-License-Identifier: BSD-2-Clause

package progress

import (
	"strings"
	"time"

	"github.com/charmbracelet/log"

	"github.com/zupgrade/zupgrade/host"
)

// RunLog renders events into the run's log (a JSON logger): a record for
// every step, every command with its whole output, every note and
// failure. Output is not logged as it streams: the command's record holds
// all of it.
type RunLog struct {
	Log *log.Logger
}

// Emit implements Sink.
func (r RunLog) Emit(e Event) {
	switch e.Kind {
	case StepStarted:
		r.Log.Info("step", "step", e.Step, "n", e.N, "of", e.Of, "title", e.Title, "state", e.Text)
	case StepSkipped:
		r.Log.Info("step done", "step", e.Step, "already", true)
	case StepDone:
		r.Log.Info("step done", "step", e.Step, "elapsed", e.Elapsed.Round(time.Millisecond).String())
	case StepFailed:
		r.Log.Info("step failed", "step", e.Step, "error", e.Text)
	case CommandEnded:
		r.Log.Info("command", "step", e.Step, "cmd", host.QuoteArgs(e.Argv), "env", strings.Join(e.Env, " "), "exit", e.Exit,
			"elapsed", e.Elapsed.Round(time.Millisecond).String(), "stdout", string(e.Stdout), "stderr", string(e.Stderr), "error", e.Text)
	case Interrupted:
		r.Log.Info("interrupted", "step", e.Step)
	case Note:
		r.Log.Info("note", "step", e.Step, "text", e.Text)
	case Checkpoint:
		r.Log.Info("checkpoint", "step", e.Step, "text", e.Text)
	case Error:
		r.Log.Info("error", "error", e.Text, "exit_code", e.ExitCode)
	}
}
