// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/steps"
)

// Exit codes are part of zupgrade's interface; docs/exit-codes.md documents
// them for scripts and fleet tools. They never change meaning.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitFailed: a step (or the command) failed; the journal keeps the
	// state so that `zupgrade apply` can resume once the cause is fixed.
	ExitFailed = 1
	// ExitUsage: bad usage or bad input (flags, a corrupt journal, a capture
	// that cannot be read).
	ExitUsage = 2
	// ExitCheckpoint: apply stopped at a reboot checkpoint (--no-reboot);
	// reboot the host and run `zupgrade apply` again.
	ExitCheckpoint = 3
	// ExitBlocked: a preflight check blocks the plan.
	ExitBlocked = 4
	// ExitLocked: another zupgrade run holds the lock.
	ExitLocked = 5
	// ExitStale: the saved plan no longer matches the host.
	ExitStale = 6
	// ExitInterrupted: SIGINT or SIGTERM stopped apply or rollback at a
	// safe point (128 + SIGINT, as a shell reports a process it
	// interrupted); the journal says "interrupted" and apply resumes.
	ExitInterrupted = 130
)

// The sentinel errors the commands mark their errors with; exitCode maps
// each to its exit code. An error is marked with mark, which keeps its
// message.
var (
	// ErrUsage: bad usage or bad input.
	ErrUsage = errors.New("bad usage")
	// ErrCheckpoint: apply or rollback stopped where the host must reboot.
	ErrCheckpoint = errors.New("stopped at a reboot checkpoint")
	// ErrBlocked: a preflight check blocks the plan.
	ErrBlocked = errors.New("plan blocked")
	// ErrStale: the saved plan no longer matches the host.
	ErrStale = errors.New("saved plan is stale")
	// ErrInterrupted: a signal stopped the command (apply and rollback at
	// a safe point).
	ErrInterrupted = steps.ErrInterrupted
)

// markedError is an error marked with one of the sentinels above.
type markedError struct {
	sentinel error
	err      error
}

func (e *markedError) Error() string   { return e.err.Error() }
func (e *markedError) Unwrap() []error { return []error{e.sentinel, e.err} }

// mark marks err with sentinel, so that Main exits with its code; the
// message stays err's.
func mark(sentinel, err error) error {
	if err == nil {
		return nil
	}
	return &markedError{sentinel: sentinel, err: err}
}

// usageErrorf reports bad usage or input (exit 2).
func usageErrorf(format string, args ...any) error {
	return mark(ErrUsage, fmt.Errorf(format, args...))
}

// exitCode maps an error returned by a command to the process exit code.
// It is the one place that does: commands return sentinel-marked or typed
// errors, never codes.
func exitCode(err error) int {
	var (
		step    *steps.StepError
		locked  *steps.LockedError
		journal *steps.JournalError
		dir     *steps.StateDirError
		name    *facts.NameError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrInterrupted):
		return ExitInterrupted
	case errors.As(err, &step):
		// A step that failed, whatever the cause: the journal keeps the
		// run and apply resumes it.
		return ExitFailed
	case errors.Is(err, ErrUsage), errors.As(err, &journal), errors.As(err, &dir), errors.As(err, &name):
		return ExitUsage
	case errors.Is(err, ErrCheckpoint):
		return ExitCheckpoint
	case errors.Is(err, ErrBlocked):
		return ExitBlocked
	case errors.As(err, &locked):
		return ExitLocked
	case errors.Is(err, ErrStale):
		return ExitStale
	}
	return ExitFailed
}

// exitMeanings says what each exit code means, for the commands' help.
var exitMeanings = map[int]string{
	ExitOK:          "done",
	ExitFailed:      "failed; a run's journal keeps where it stands (zupgrade status)",
	ExitUsage:       "bad usage or input: an unknown command or option, a bad capture, journal or state directory",
	ExitCheckpoint:  "stopped where the host must reboot (--no-reboot)",
	ExitBlocked:     "a preflight check blocks the plan",
	ExitLocked:      "another zupgrade run holds the lock",
	ExitStale:       "the saved plan no longer matches the host",
	ExitInterrupted: "interrupted by SIGINT or SIGTERM at a safe point; zupgrade apply resumes",
}

// commandExits lists the exit codes each command returns.
var commandExits = map[string][]int{
	"inspect":    {ExitOK, ExitFailed, ExitUsage},
	"plan":       {ExitOK, ExitFailed, ExitUsage, ExitBlocked},
	"apply":      {ExitOK, ExitFailed, ExitUsage, ExitCheckpoint, ExitBlocked, ExitLocked, ExitStale, ExitInterrupted},
	"status":     {ExitOK, ExitFailed, ExitUsage},
	"rollback":   {ExitOK, ExitFailed, ExitUsage, ExitCheckpoint, ExitLocked, ExitInterrupted},
	"finalize":   {ExitOK, ExitFailed, ExitUsage, ExitBlocked, ExitLocked, ExitInterrupted},
	"version":    {ExitOK, ExitUsage},
	"completion": {ExitOK, ExitUsage},
}

// exitHelp is the paragraph of a command's help that lists the exit codes
// it returns; json adds how --json reports an error.
func exitHelp(codes []int, json bool) string {
	var b strings.Builder
	b.WriteString("Exit status:")
	for _, c := range codes {
		fmt.Fprintf(&b, "\n  %3d  %s", c, exitMeanings[c])
	}
	if json {
		b.WriteString("\nWith --json, an error is also printed on stdout as {\"error\": MESSAGE, \"exit\": CODE}.")
	}
	return b.String()
}
