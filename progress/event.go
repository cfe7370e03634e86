// SPDX-License-Identifier: BSD-2-Clause

// Package progress carries what a run does as a stream of events, from the
// engine that runs the steps to the renderers that show it: a status line
// on a terminal, plain lines when the output is piped, JSON Lines for
// scripts (apply --json) and the run's JSON log.
//
// Renderers keep no timers: they judge time by the events' Time, and a
// Pulse turns the ticks of a ticker into heartbeat events while a command
// runs, so that tests drive time with a channel instead of waiting on the
// wall clock.
package progress

import "time"

// Kind names what an event reports.
type Kind string

// The kinds of events.
const (
	// StepStarted: step N of M begins (Step, Title, N, Of).
	StepStarted Kind = "step-started"
	// StepDone: the step took effect (Elapsed).
	StepDone Kind = "step-done"
	// StepSkipped: the step's effect is on the host already (Text says how
	// it was found).
	StepSkipped Kind = "step-skipped"
	// StepFailed: the step failed (Text is the error).
	StepFailed Kind = "step-failed"
	// CommandStarted: a command of the step starts (Argv).
	CommandStarted Kind = "command-started"
	// CommandEnded: it ended (Exit, Elapsed; Text is the error when it could
	// not run to its end).
	CommandEnded Kind = "command-ended"
	// Output: one whole line the command printed (Text, without its end).
	Output Kind = "output"
	// Partial: what the command printed so far of a line it has not ended
	// (Text): progress dots, a prompt, or the last state of a line that
	// "\r" rewrites.
	Partial Kind = "partial"
	// Heartbeat: a command still runs (Argv, Elapsed since it started).
	Heartbeat Kind = "heartbeat"
	// Note: something the step decided that the admin should read (Text).
	Note Kind = "note"
	// Checkpoint: the run reached a reboot checkpoint (Text says whether it
	// reboots or stops).
	Checkpoint Kind = "checkpoint"
	// Interrupted: SIGINT or SIGTERM stopped the run at a safe point before
	// Step (Text says what the journal keeps).
	Interrupted Kind = "interrupted"
	// Error: the command ends with this error (Text, ExitCode).
	Error Kind = "error"
)

// Event is one thing that happened during a run. Fields that do not apply to
// the Kind are zero.
type Event struct {
	Kind  Kind
	Time  time.Time
	Step  string
	Title string
	// N and Of number the step: step N of Of.
	N, Of int
	// Argv is the command that started, ended or still runs.
	Argv []string
	// Exit is the command's exit status (CommandEnded).
	Exit int
	// ExitCode is zupgrade's own exit status (Error).
	ExitCode int
	Elapsed  time.Duration
	Text     string
	// Stdout and Stderr are the whole output of an ended command, for the
	// run log; the other renderers saw it stream as Output and Partial.
	Stdout, Stderr []byte
	// Env holds the extra KEY=VALUE pairs the command ran with.
	Env []string
}

// Sink receives events. Emit may be called from several goroutines at once
// (a command's standard output and standard error are read by two).
type Sink interface {
	Emit(Event)
}

// Tee returns a Sink that hands every event to each of sinks in turn.
func Tee(sinks ...Sink) Sink { return tee(sinks) }

type tee []Sink

func (t tee) Emit(e Event) {
	for _, s := range t {
		s.Emit(e)
	}
}
