// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
)

// TestOldRunLogsPruned: a new run keeps the logs of the newest
// keepRunLogs runs, itself counted, with what newsyslog rotated of them
// (RUN.json.0.bz2), and removes the older runs' logs; the run's own log,
// resume.log and files that are no run's log stay.
func TestOldRunLogsPruned(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, patchSpec)
	logDir := steps.LogDirFor(h.state)
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		t.Fatal(err)
	}
	const old = keepRunLogs + 2 // runs of 2025, each with a rotated log
	var runs []string
	for i := range old {
		id := fmt.Sprintf("202501%02dT120000Z", i+1)
		runs = append(runs, id)
		for _, name := range []string{id + ".json", id + ".json.0.bz2"} {
			if err := os.WriteFile(filepath.Join(logDir, name), []byte("{}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	others := []string{"resume.log", "resume.log.0.bz2", "notes.txt", "20250101T120000Z.txt"}
	for _, name := range others {
		if err := os.WriteFile(filepath.Join(logDir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	code, out := h.zupgrade(nil, "apply", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply --no-reboot: exit %d, want %d:\n%s", code, ExitCheckpoint, out)
	}
	current := h.journal().RunID
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(logDir, name))
		return err == nil
	}
	if !exists(current + ".json") {
		t.Errorf("the run's own log %s.json is gone", current)
	}
	// The newest keepRunLogs-1 old runs stay beside the new one.
	for i, id := range runs {
		keep := i >= old-(keepRunLogs-1)
		for _, name := range []string{id + ".json", id + ".json.0.bz2"} {
			if exists(name) != keep {
				t.Errorf("%s: exists %v, want %v", name, exists(name), keep)
			}
		}
	}
	for _, name := range others {
		if !exists(name) {
			t.Errorf("%s, no run's log, was removed", name)
		}
	}
	// A resumed run removes nothing more: the pending run's log stays.
	code, out = h.zupgrade(nil, "apply", "--no-reboot")
	if !exists(current + ".json") {
		t.Errorf("apply again (exit %d) removed the pending run's log:\n%s", code, out)
	}
}
