// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/creack/pty"

	"github.com/zupgrade/zupgrade/progress"
)

// TestRunOutputPicksTheRenderer: a status line on a terminal, plain lines
// on a pipe, JSON Lines with --json whatever the output.
func TestRunOutputPicksTheRenderer(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	step := progress.Event{Kind: progress.StepStarted, Time: time.Now(), Step: "backup", Title: "Backup", N: 1, Of: 2}
	for _, tt := range []struct {
		name   string
		out    io.Writer
		json   bool
		status bool
	}{
		{"terminal", tty, false, true},
		{"terminal seen through Main's watch", &watchedWriter{w: tty}, false, true},
		{"pipe", pw, false, false},
		{"terminal --json", tty, true, false},
	} {
		o := newRunOutput(Env{Stdout: tt.out, Stderr: io.Discard}, tt.json, log.New(io.Discard))
		if got := o.status != nil; got != tt.status || o.json != tt.json {
			t.Errorf("%s: status line %v, JSON %v; want %v, %v", tt.name, got, o.json, tt.status, tt.json)
		}
		o.end(nil)
	}
	// What the pipe got: the plain line.
	o := newRunOutput(Env{Stdout: pw, Stderr: io.Discard}, false, log.New(io.Discard))
	o.emit(step)
	o.end(nil)
	pw.Close()
	var got bytes.Buffer
	got.ReadFrom(pr)
	if want := "[1/2] Backup (backup)\n"; got.String() != want {
		t.Errorf("plain output %q, want %q", got.String(), want)
	}
	if strings.Contains(got.String(), "\x1b") {
		t.Errorf("escape sequences on a pipe: %q", got.String())
	}
}
