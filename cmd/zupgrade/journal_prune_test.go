// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
)

// TestOldJournalsPruned: a new run moves the journal of the run that
// ended aside (journal-RUN.json) and keeps the newest keepJournals of
// those archives, the one it just made counted; the older archives go,
// and files that are no archive (a corrupt journal's copy) stay.
func TestOldJournalsPruned(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, patchSpec)
	code, out := h.zupgrade(nil, "apply", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply --no-reboot: exit %d, want %d:\n%s", code, ExitCheckpoint, out)
	}
	// The run ends (as a rollback would end it).
	ended := h.journal()
	ended.Status = steps.StatusRolledBack
	if err := (steps.Store{Dir: h.state}).Save(ended); err != nil {
		t.Fatal(err)
	}
	const old = keepJournals + 2 // runs of 2025
	var runs []string
	for i := range old {
		id := fmt.Sprintf("202501%02dT120000Z", i+1)
		runs = append(runs, id)
		if err := os.WriteFile(filepath.Join(h.state, "journal-"+id+".json"), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	others := []string{"journal.json.bad-20250101T120000.000000000", "journal-notes.txt"}
	for _, name := range others {
		if err := os.WriteFile(filepath.Join(h.state, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	code, out = h.zupgrade(nil, "apply", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("the new run: exit %d, want %d:\n%s", code, ExitCheckpoint, out)
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(h.state, name))
		return err == nil
	}
	if !exists("journal-" + ended.RunID + ".json") {
		t.Errorf("the ended run's journal was not kept as journal-%s.json", ended.RunID)
	}
	for i, id := range runs {
		if keep := i >= old-(keepJournals-1); exists("journal-"+id+".json") != keep {
			t.Errorf("journal-%s.json: exists %v, want %v", id, !keep, keep)
		}
	}
	for _, name := range others {
		if !exists(name) {
			t.Errorf("%s, no archived journal, was removed", name)
		}
	}
}
