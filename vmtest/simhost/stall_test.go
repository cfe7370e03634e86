// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStallFault: a stalled command prints its message, waits until its
// FIFO is opened for writing and closed, then does what it does as usual.
func TestStallFault(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	fifo := filepath.Join(t.TempDir(), "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tm.AddFault(Fault{Command: "bectl", Args: "create", Action: FaultStall, Until: fifo, Message: "slow"}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- tm.Exec(context.Background(), []string{"bectl", "create", "before-upgrade"}, nil, &stdout, &stderr, tm.env)
	}()
	// Opening the FIFO for writing waits until the command opened it for
	// reading: it is stalled now, and cannot end before the FIFO closes.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		t.Fatalf("the stalled command ended (exit %d) before its FIFO was closed", code)
	default:
	}
	w.Close()
	if code := <-done; code != 0 {
		t.Fatalf("bectl create after the stall: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "slow\n") {
		t.Errorf("the stall did not print its message: %q", stderr.String())
	}
	if out := tm.must("bectl", "list", "-H"); !strings.Contains(out, "before-upgrade") {
		t.Errorf("the stalled bectl create did not create its boot environment:\n%s", out)
	}
	if err := (&Fault{Action: FaultStall}).check(); err == nil {
		t.Error("a stall fault without until is accepted")
	}
}
