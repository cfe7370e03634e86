// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// ExecRunner runs commands as processes on this machine.
type ExecRunner struct {
	// Env, when non-nil, replaces the inherited environment (tests point
	// PATH at a simulated host this way).
	Env []string
	// Children, when set, records every command started (see Children).
	Children *Children
}

// Run starts the command with LC_ALL=C added to its environment, so that
// outputs are in the format the parsers know, and waits for it.
func (e ExecRunner) Run(ctx context.Context, cmd Command) (Result, error) {
	if len(cmd.Args) == 0 {
		return Result{}, errors.New("empty command")
	}
	env := e.Env
	if env == nil {
		env = os.Environ()
	}
	env = append(append(append([]string{}, env...), "LC_ALL=C"), cmd.Env...)
	path, err := lookPath(cmd.Args[0], env)
	if err != nil {
		// Reported as a shell would: status 127, so that callers (and
		// captures) treat "not installed" as an answer, not a failure to ask.
		return Result{ExitCode: ExitNotFound, Stderr: []byte(err.Error() + "\n")}, nil
	}
	c := exec.CommandContext(ctx, path, cmd.Args[1:]...)
	c.Args[0] = cmd.Args[0]
	c.Env = env
	e.Children.prepare(c)
	if cmd.Dialog != nil {
		return runOnTerminal(ctx, c, cmd, e.Children)
	}
	c.Stdin = bytes.NewReader(cmd.Stdin)
	// A new session has no controlling terminal: a program that would ask
	// on /dev/tty (freebsd-update's merge review, pkg's prompts) fails at
	// once instead of waiting for an answer nobody gives.
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stdout, stderr bytes.Buffer
	if cmd.Output != nil {
		c.Stdout = io.MultiWriter(&stdout, cmd.Output)
		c.Stderr = io.MultiWriter(&stderr, cmd.Output)
	} else {
		c.Stdout, c.Stderr = &stdout, &stderr
	}
	if err = c.Start(); err == nil {
		e.Children.started(c, cmd.Line())
		err = c.Wait()
		e.Children.ended()
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		res.ExitCode = exitErr.ExitCode()
	default:
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, err
	}
	return res, nil
}

// lookPath finds name in the PATH of env (not of this process), so that a
// runner with its own environment finds its own programs.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}
