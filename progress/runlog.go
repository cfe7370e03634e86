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
// all of it. Every record has a "version", RunLogVersion
// (docs/apply-json.md).
type RunLog struct {
	Log *log.Logger
}

// RunLogVersion is the version of the run log's records. Within a version
// fields are only added, and new messages may appear.
const RunLogVersion = 1

// info writes one record with its version.
func (r RunLog) info(msg string, kv ...any) {
	r.Log.Info(msg, append([]any{"version", RunLogVersion}, kv...)...)
}

// Emit implements Sink.
func (r RunLog) Emit(e Event) {
	switch e.Kind {
	case StepStarted:
		r.info("step", "step", e.Step, "n", e.N, "of", e.Of, "title", e.Title, "state", e.Text)
	case StepSkipped:
		r.info("step done", "step", e.Step, "already", true)
	case StepDone:
		r.info("step done", "step", e.Step, "elapsed", e.Elapsed.Round(time.Millisecond).String())
	case StepFailed:
		r.info("step failed", "step", e.Step, "error", e.Text)
	case CommandEnded:
		r.info("command", "step", e.Step, "cmd", host.QuoteArgs(e.Argv), "env", strings.Join(e.Env, " "), "exit", e.Exit,
			"elapsed", e.Elapsed.Round(time.Millisecond).String(), "stdout", string(e.Stdout), "stderr", string(e.Stderr), "error", e.Text)
	case Interrupted:
		r.info("interrupted", "step", e.Step)
	case Note:
		r.info("note", "step", e.Step, "text", e.Text)
	case Checkpoint:
		r.info("checkpoint", "step", e.Step, "text", e.Text)
	case Error:
		r.info("error", "error", e.Text, "exit_code", e.ExitCode)
	}
}
