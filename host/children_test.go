// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestChildrenStopsLeftOver: a command started by a process that went
// away (its descriptor of the lock closed, as a SIGKILL closes it) still
// holds the children lock; the next OpenChildren stops its process group
// and takes the lock.
func TestChildrenStopsLeftOver(t *testing.T) {
	dir := t.TempDir()
	first, err := OpenChildren(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := ExecRunner{Env: os.Environ(), Children: first}
	ended := make(chan error, 1)
	go func() {
		_, err := r.Run(context.Background(), Command{Args: []string{"sleep", "1000"}})
		ended <- err
	}()
	// Wait until the command is recorded: the record appears once it runs.
	for {
		if pgid, _ := first.recorded(); pgid > 0 {
			break
		}
		select {
		case err := <-ended:
			t.Fatalf("sleep ended at once: %v", err)
		default:
			runtime.Gosched()
		}
	}
	first.Close() // the process that started it is gone
	var report strings.Builder
	second, err := OpenChildren(dir, &report)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := <-ended; err == nil || !strings.Contains(report.String(), "sleep 1000") {
		t.Errorf("the left-over sleep ended with %v; report %q", err, report.String())
	}
	if pgid, _ := second.recorded(); pgid != 0 {
		t.Errorf("the record of the stopped command is kept: %d", pgid)
	}
}

// TestChildrenLeavesDaemons: a process a command left behind (a daemon
// that inherited the descriptor) is no command of a run: OpenChildren
// leaves it running and takes a new lock.
func TestChildrenLeavesDaemons(t *testing.T) {
	dir := t.TempDir()
	first, err := OpenChildren(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := ExecRunner{Env: os.Environ(), Children: first}
	res, err := r.Run(context.Background(), Command{Args: []string{"sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!"}})
	if err != nil || !res.OK() {
		t.Fatalf("start the daemon: %v %+v", err, res)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(res.Stdout)))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	first.Close()
	var report strings.Builder
	second, err := OpenChildren(dir, &report)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := syscall.Kill(pid, 0); err != nil || report.Len() > 0 {
		t.Errorf("the daemon was stopped (%v); report %q", err, report.String())
	}
}
