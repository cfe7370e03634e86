// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Command is one process zupgrade wants to run on the host: an argv, never a
// shell line.
type Command struct {
	// Args is the argv; Args[0] is looked up in PATH.
	Args []string
	// Env holds extra KEY=VALUE pairs added to the environment.
	Env []string
	// Stdin is fed to the process; nil means an empty standard input, so a
	// prompt reads end-of-file instead of waiting for a terminal.
	Stdin []byte
	// Output, when set, receives standard output and standard error as they
	// are produced (long-running commands stream through it). The Result
	// still holds everything.
	Output io.Writer
	// Dialog, when set, runs the command on a pseudo-terminal that is its
	// controlling terminal (what it opens as /dev/tty), and answers it: see
	// Dialog. Standard output and standard error then arrive together in
	// Result.Stdout, and Stdin is not used.
	Dialog Dialog
}

// Dialog answers a program that asks questions on its terminal. It is
// called with what the program printed since the last answer; it returns
// what to type ("" for nothing yet) and whether to stop the program because
// it waits for something no one can give unattended.
type Dialog func(screen string) (answer string, stop bool)

// Line returns the command line as a shell would show it, with arguments
// quoted where needed. It names commands in captures, logs and errors.
func (c Command) Line() string { return QuoteArgs(c.Args) }

// Result is what a command produced.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// OK reports whether the command exited with status 0.
func (r Result) OK() bool { return r.ExitCode == 0 }

// Runner runs commands on a host. Run returns an error only when the command
// could not be run at all (not found, refused, context ended); a command that
// ran and failed is a Result with a non-zero ExitCode.
type Runner interface {
	Run(ctx context.Context, cmd Command) (Result, error)
}

// ErrMutationRefused is returned by a read-only runner for a command that
// could change the host.
var ErrMutationRefused = errors.New("refused: command may change the host and this run is read-only")

// ExitError describes a command that ran and failed.
type ExitError struct {
	Line     string
	ExitCode int
	Stderr   string
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		return fmt.Sprintf("%s: exit status %d", e.Line, e.ExitCode)
	}
	return fmt.Sprintf("%s: exit status %d: %s", e.Line, e.ExitCode, lastLines(msg, 3))
}

// Output runs args and returns its standard output, or an error when the
// command could not run or exited with a status other than 0.
func Output(ctx context.Context, r Runner, args ...string) ([]byte, error) {
	cmd := Command{Args: args}
	res, err := r.Run(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return res.Stdout, &ExitError{Line: cmd.Line(), ExitCode: res.ExitCode, Stderr: string(res.Stderr)}
	}
	return res.Stdout, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// QuoteArgs joins args with spaces, single-quoting any argument that holds
// characters other than letters, digits and _ . / : = @ % + , -.
func QuoteArgs(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteArg(a))
	}
	return b.String()
}

func quoteArg(a string) string {
	if a == "" {
		return "''"
	}
	plain := true
	for _, r := range a {
		if !isPlain(r) {
			plain = false
			break
		}
	}
	if plain {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func isPlain(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("_./:=@%+,-", r)
}
