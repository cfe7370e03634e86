// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/steps"
)

// TestLockOwnerNeverStale: the owner record names the live holder only:
// not one written in another boot environment (a copy of the state
// directory), not one whose process is gone, not one whose pid a process
// that holds no lock has taken since (after a power cut and a boot, which
// hands out pids in the same order each time).
func TestLockOwnerNeverStale(t *testing.T) {
	dir := t.TempDir()
	store := steps.Store{Dir: dir, BootEnv: "zroot/ROOT/default"}
	unlock, err := store.Lock()
	if err != nil {
		t.Fatal(err)
	}
	o := store.Owner()
	if o == nil || o.Pid != os.Getpid() || o.BootEnv != "zroot/ROOT/default" {
		t.Fatalf("owner while this process holds the lock: %+v", o)
	}
	other := steps.Store{Dir: dir, BootEnv: "zroot/ROOT/zupgrade-backup"}
	if o := other.Owner(); o != nil {
		t.Errorf("another boot environment's record taken for a live run there: %v", o)
	}
	if o := (steps.Store{Dir: dir}).Owner(); o == nil {
		t.Error("a reader that does not know its boot environment does not see the live holder")
	}
	unlock()
	if o := store.Owner(); o != nil {
		t.Errorf("owner after unlock: %v", o)
	}

	// A holder killed with SIGKILL leaves its record: its pid is gone.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(steps.LockOwner{Pid: cmd.Process.Pid, BootEnv: "zroot/ROOT/default", Since: time.Now()})
	if err := os.WriteFile(filepath.Join(dir, "lock.owner"), rec, 0o600); err != nil {
		t.Fatal(err)
	}
	if o := store.Owner(); o != nil {
		t.Errorf("the record of a process that is gone taken for a live run: %v", o)
	}

	// A record left by a power cut whose pid now belongs to a live
	// process (this one) that does not hold the lock.
	rec, _ = json.Marshal(steps.LockOwner{Pid: os.Getpid(), BootEnv: "zroot/ROOT/default", Since: time.Now()})
	if err := os.WriteFile(filepath.Join(dir, "lock.owner"), rec, 0o600); err != nil {
		t.Fatal(err)
	}
	if o := store.Owner(); o != nil {
		t.Errorf("the record of a pid reused by a process that holds no lock taken for a live run: %v", o)
	}
	// The lock is still free for a run.
	unlock, err = store.Lock()
	if err != nil {
		t.Fatalf("lock after status read a stale record: %v", err)
	}
	unlock()
}
