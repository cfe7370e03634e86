// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// onTerminal runs zupgrade as a process of the machine with a pty for its
// standard input and output, calling answer with everything printed so far
// each time output arrives; answer returns what to type ("" for nothing).
// It returns the exit code and the output.
func (h *testHost) onTerminal(answer func(screen string) string, args ...string) (int, string) {
	h.t.Helper()
	return h.onTerminalTo(nil, answer, args...)
}

// onTerminalTo is onTerminal with standard output sent to stdout instead
// of the terminal when stdout is not nil.
func (h *testHost) onTerminalTo(stdout *os.File, answer func(screen string) string, args ...string) (int, string) {
	h.t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		h.t.Fatal(err)
	}
	defer ptmx.Close()
	cmd := exec.Command(h.exe, append([]string{"--state-dir", h.state}, args...)...)
	cmd.Env = h.m.Env()
	cmd.Dir = h.m.Root
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if stdout != nil {
		cmd.Stdout = stdout
	}
	p, err := h.m.Start(cmd)
	tty.Close()
	if err != nil {
		h.t.Fatal(err)
	}
	var screen bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := ptmx.Read(buf)
		screen.Write(buf[:n])
		if a := answer(screen.String()); a != "" {
			io.WriteString(ptmx, a)
		}
		if err != nil {
			// EIO: zupgrade and what it left running closed the pty.
			if !errors.Is(err, syscall.EIO) {
				h.t.Fatal(err)
			}
			break
		}
	}
	code := 0
	if err := p.Wait(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			h.t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return code, screen.String()
}

// TestApplyAsksOnTerminal: on a terminal apply shows the plan and asks;
// no (or just Enter) changes nothing. --yes asks nothing. Without a
// terminal (every other test, the boot hook) apply asks nothing either.
func TestApplyAsksOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("a run on a simulated host; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p6", Updates: map[string]int{"14.3-RELEASE": 6}})
	before := h.summary()
	asked := 0
	code, out := h.onTerminal(func(screen string) string {
		if strings.Count(screen, "[y/N] ") > asked {
			asked++
			return "\n"
		}
		return ""
	}, "apply")
	if code != ExitFailed || asked != 1 || !strings.Contains(out, "Plan: patch update of 14.3-RELEASE-p6") || !strings.Contains(out, "not confirmed: nothing was changed") {
		t.Fatalf("apply on a terminal, answered Enter: exit %d, asked %d times:\n%s", code, asked, out)
	}
	if j := h.journal(); j != nil {
		t.Errorf("a declined apply left a run: %s", j.Status)
	}
	if after := h.summary(); after != before {
		t.Errorf("a declined apply changed the host:\n%s\nthen\n%s", before, after)
	}
	code, out = h.onTerminal(func(screen string) string {
		if strings.Contains(screen, "[y/N]") {
			t.Errorf("apply --yes asked:\n%s", screen)
			return "n\n"
		}
		return ""
	}, "apply", "--yes")
	if code != 0 || h.journal() == nil || h.journal().Status != steps.StatusDone {
		t.Fatalf("apply --yes on a terminal: exit %d:\n%s", code, out)
	}
}

// TestApplyJSONAsksOnStderr: apply --json with a terminal on standard
// input still asks before it changes the host, but the plan and the
// question go to standard error: standard output stays JSON Lines, one
// event a line, for the program that reads it.
func TestApplyJSONAsksOnStderr(t *testing.T) {
	if testing.Short() {
		t.Skip("a run on a simulated host; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p6", Updates: map[string]int{"14.3-RELEASE": 6}})
	stdout, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	asked := false
	code, screen := h.onTerminalTo(stdout, func(screen string) string {
		if !asked && strings.Contains(screen, "[y/N] ") {
			asked = true
			return "\n"
		}
		return ""
	}, "apply", "--json")
	out, err := os.ReadFile(stdout.Name())
	if err != nil {
		t.Fatal(err)
	}
	if code != ExitFailed || !asked || !strings.Contains(screen, "Plan: patch update of 14.3-RELEASE-p6") {
		t.Fatalf("apply --json on a terminal, answered Enter: exit %d, asked %v; terminal:\n%s\nstdout:\n%s", code, asked, screen, out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("standard output of apply --json holds a line that is not JSON: %q\nall of it:\n%s", line, out)
		}
	}
	if h.journal() != nil {
		t.Errorf("a declined apply --json left a run")
	}
}
