// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"

	"github.com/creack/pty"
)

// ErrStopped is returned when a Dialog stopped the command.
var ErrStopped = errors.New("stopped: the command waits for an answer no one can give unattended")

// runOnTerminal runs c on a new pseudo-terminal that becomes its
// controlling terminal, feeds what it prints to the command's Dialog, types
// the answers, and stops it when the Dialog says so.
// The command is recorded in children (which may be nil).
func runOnTerminal(ctx context.Context, c *exec.Cmd, cmd Command, children *Children) (Result, error) {
	ptmx, err := pty.StartWithAttrs(c, &pty.Winsize{Rows: 50, Cols: 200}, &syscall.SysProcAttr{Setsid: true, Setctty: true})
	if err != nil {
		return Result{}, fmt.Errorf("%s: start on a pseudo-terminal: %w", cmd.Line(), err)
	}
	children.started(c, cmd.Line())
	defer children.ended()
	defer ptmx.Close()
	var all, screen bytes.Buffer
	stopped := false
	buf := make([]byte, 4096)
	for {
		n, rerr := ptmx.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			all.Write(chunk)
			screen.Write(chunk)
			if cmd.Output != nil {
				cmd.Output.Write(chunk)
			}
			answer, stop := cmd.Dialog(screen.String())
			switch {
			case stop:
				stopped = true
				c.Process.Kill()
			case answer != "":
				screen.Reset()
				if _, err := ptmx.Write([]byte(answer)); err != nil {
					c.Process.Kill()
				}
			}
		}
		if rerr != nil || stopped {
			// The terminal reads EIO (Linux) or EOF once the program and
			// every process holding the terminal are gone.
			break
		}
	}
	err = c.Wait()
	res := Result{Stdout: all.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case stopped:
		res.ExitCode = -1
		return res, fmt.Errorf("%s: %w", cmd.Line(), ErrStopped)
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
