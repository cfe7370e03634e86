// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// TestNoColourQueryOnSilentTerminal: with standard error on a terminal that
// answers nothing (under script(1), expect, ssh -tt), zupgrade must not ask
// the terminal for its colours (termenv's OSC 10/11 queries), each of which
// waits 5 s for an answer that never comes. The pty here answers nothing:
// the test fails if a query was written to it, whatever the time taken.
func TestNoColourQueryOnSilentTerminal(t *testing.T) {
	zup, _ := binaries(t)
	for _, args := range [][]string{
		{"status"},
		{"apply", "--to", "14.2-RELEASE"}, // logs an error: the logger is used
	} {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(zup, append([]string{"--state-dir", filepath.Join(t.TempDir(), "state")}, args...)...)
		cmd.Env = append(os.Environ(), "TERM=xterm-256color", "PATH=/nonexistent")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		// zupgrade is the session leader with the pty as its controlling
		// terminal, in its foreground: where termenv would ask.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		tty.Close()
		var out bytes.Buffer
		copied := make(chan error, 1)
		go func() {
			_, err := io.Copy(&out, ptmx)
			copied <- err
		}()
		werr := cmd.Wait()
		// The master reads EIO once the last descriptor of the slave is
		// closed, with zupgrade's exit.
		if err := <-copied; err != nil && !errors.Is(err, syscall.EIO) {
			t.Fatal(err)
		}
		ptmx.Close()
		for _, q := range []string{"\x1b]10;?", "\x1b]11;?", "\x1b[6n"} {
			if bytes.Contains(out.Bytes(), []byte(q)) {
				t.Errorf("zupgrade %v (%v) asked the terminal %q:\n%q", args, werr, q, out.String())
			}
		}
		if !bytes.Contains(out.Bytes(), []byte("zupgrade")) {
			t.Errorf("zupgrade %v printed nothing on the terminal: %q", args, out.String())
		}
		// The terminal still gets colours, from the profile set without asking.
		if args[0] == "apply" && !bytes.Contains(out.Bytes(), []byte("\x1b[0m")) {
			t.Errorf("zupgrade %v logged without colours on a terminal: %q", args, out.String())
		}
	}
}
