package main

import (
	"errors"
	"fmt"

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
)

// exitError carries an exit code up to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that Main exits with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageErrorf reports bad usage or input (exit 2).
func usageErrorf(format string, args ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, args...))
}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	var name *facts.NameError
	var dir *steps.StateDirError
	if errors.As(err, &name) || errors.As(err, &dir) {
		return ExitUsage
	}
	return ExitFailed
}
