// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

// journalTime is the clock of the journal tests: whole seconds in UTC, as
// a journal read back from JSON holds them.
var journalTime = time.Date(2026, 11, 26, 13, 5, 9, 0, time.UTC)

// exampleFacts gathers the facts of examples/NAME.txtar.
func exampleFacts(tb testing.TB, name string) *facts.Facts {
	tb.Helper()
	path := filepath.Join("..", "examples", name+".txtar")
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	rp, err := host.ParseCapture(path, data)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := facts.Gather(context.Background(), rp)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return f
}

// midRunJournal is the journal of a BIOS+UEFI 3-way mirror upgraded to
// 14.2-RELEASE, stopped at the first reboot checkpoint: what a real run
// leaves in the state directory.
func midRunJournal(tb testing.TB) *steps.Journal {
	tb.Helper()
	p := steps.Build(exampleFacts(tb, "mirror-bios-uefi"), steps.Options{To: "14.2-RELEASE", Now: journalTime})
	if len(p.Steps) != 13 {
		tb.Fatalf("the plan has %d steps, want 13", len(p.Steps))
	}
	j := steps.NewJournal(p, journalTime)
	for i := range j.Steps {
		r := &j.Steps[i]
		if r.State == steps.StepSkipped {
			continue
		}
		start := journalTime.Add(time.Duration(i) * time.Minute)
		end := start.Add(30 * time.Second)
		switch {
		case r.ID == steps.StepRebootKernel:
			r.State, r.Started, r.Attempts = steps.StepStarted, &start, 1
			j.Status, j.Message = steps.StatusCheckpoint, "reboot the host, then run zupgrade apply"
		case j.Status == steps.StatusRunning:
			r.State, r.Started, r.Finished, r.Attempts = steps.StepDone, &start, &end, 1
		}
	}
	j.Updated = journalTime.Add(time.Hour)
	return j
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestStoreSaveLoadRoundTrip(t *testing.T) {
	store := steps.Store{Dir: t.TempDir()}
	want := midRunJournal(t)
	if err := store.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load after Save (-saved +loaded):\n%s", diff)
	}
	if c := got.Current(); c == nil || c.ID != steps.StepRebootKernel || c.State != steps.StepStarted {
		t.Errorf("Current() = %+v, want the started reboot-kernel step", c)
	}
	fi, err := os.Stat(store.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("journal mode %v: readable by others", perm)
	}
}

func TestStoreLoadWithoutJournal(t *testing.T) {
	for name, dir := range map[string]string{
		"empty state directory":   t.TempDir(),
		"missing state directory": filepath.Join(t.TempDir(), "none"),
	} {
		j, err := steps.Store{Dir: dir}.Load()
		if j != nil || err != nil {
			t.Errorf("%s: Load() = %v, %v; want nil, nil", name, j, err)
		}
	}
}

// TestStoreSaveReplacesAtomically saves a run's successive states and
// checks that every Save leaves the whole new journal and nothing else.
func TestStoreSaveReplacesAtomically(t *testing.T) {
	store := steps.Store{Dir: t.TempDir()}
	j := midRunJournal(t)
	for i, status := range []steps.RunStatus{steps.StatusRunning, steps.StatusRebooting, steps.StatusFailed, steps.StatusDone} {
		j.Status = status
		j.Updated = journalTime.Add(time.Duration(i) * time.Hour)
		if err := store.Save(j); err != nil {
			t.Fatal(err)
		}
		if names := dirNames(t, store.Dir); !slices.Equal(names, []string{"journal.json"}) {
			t.Fatalf("after Save %d the state directory holds %q, want only journal.json", i+1, names)
		}
		got, err := store.Load()
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != status || !got.Updated.Equal(j.Updated) {
			t.Errorf("after Save %d: loaded status %s updated %v, want %s %v", i+1, got.Status, got.Updated, status, j.Updated)
		}
	}
}

// TestStoreLoadAfterInterruptedSave: a crash between writing the temporary
// file and renaming it leaves that file beside the old journal. Load reads
// the old journal, and the next Save replaces it.
func TestStoreLoadAfterInterruptedSave(t *testing.T) {
	store := steps.Store{Dir: t.TempDir()}
	old := midRunJournal(t)
	if err := store.Save(old); err != nil {
		t.Fatal(err)
	}
	next := midRunJournal(t)
	next.Status, next.Message = steps.StatusRebooting, "rebooting"
	data, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	// The write reached the disk only in part.
	stray := filepath.Join(store.Dir, ".journal.json4242")
	if err := os.WriteFile(stray, data[:len(data)/3], 0o600); err != nil {
		t.Fatal(err)
	}

	got, err := store.Load()
	if err != nil {
		t.Fatalf("Load with a stray temporary file: %v", err)
	}
	if diff := cmp.Diff(old, got); diff != "" {
		t.Errorf("Load did not return the old journal (-old +loaded):\n%s", diff)
	}
	if err := store.Save(next); err != nil {
		t.Fatal(err)
	}
	got, err = store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != steps.StatusRebooting {
		t.Errorf("after the next Save: status %s, want %s", got.Status, steps.StatusRebooting)
	}
	for _, n := range dirNames(t, store.Dir) {
		if n != "journal.json" && n != filepath.Base(stray) {
			t.Errorf("Save left %s behind", n)
		}
	}
}

// journalEdit changes a saved journal's JSON document.
func journalEdit(t *testing.T, data []byte, edit func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func journalStepRecords(doc map[string]any) []any { return doc["steps"].([]any) }

// TestStoreLoadRefusesBadJournal: a journal zupgrade cannot trust is
// refused with a message that says what is wrong and what to do, left in
// place byte for byte, and copied beside itself.
func TestStoreLoadRefusesBadJournal(t *testing.T) {
	good := func(t *testing.T) []byte {
		dir := t.TempDir()
		if err := (steps.Store{Dir: dir}).Save(midRunJournal(t)); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "journal.json"))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tests := []struct {
		name string
		data func(t *testing.T) []byte
		// reason is what the message must say about the file.
		reason string
	}{
		{"truncated", func(t *testing.T) []byte { d := good(t); return d[:len(d)/2] }, "truncated or damaged"},
		{"empty", func(*testing.T) []byte { return nil }, "truncated or damaged"},
		{"not JSON", func(*testing.T) []byte { return []byte("\x00\x00\x00\x00journal\n") }, "not a valid journal"},
		{"trailing garbage", func(t *testing.T) []byte { return append(good(t), "}\x00"...) }, "not a valid journal"},
		{"newer format", func(t *testing.T) []byte {
			return journalEdit(t, good(t), func(doc map[string]any) { doc["format"] = steps.JournalFormat + 1 })
		}, "written by a newer zupgrade (journal format 3, this one reads 2): finish the run with the zupgrade that started it"},
		{"no format", func(t *testing.T) []byte {
			return journalEdit(t, good(t), func(doc map[string]any) { delete(doc, "format") })
		}, "unknown journal format 0"},
		{"no plan", func(t *testing.T) []byte {
			return journalEdit(t, good(t), func(doc map[string]any) { delete(doc, "plan") })
		}, "the journal's steps do not match its plan"},
		{"a step record missing", func(t *testing.T) []byte {
			return journalEdit(t, good(t), func(doc map[string]any) {
				r := journalStepRecords(doc)
				doc["steps"] = r[:len(r)-1]
			})
		}, "the journal's steps do not match its plan"},
		{"steps in another order", func(t *testing.T) []byte {
			return journalEdit(t, good(t), func(doc map[string]any) {
				r := journalStepRecords(doc)
				r[0], r[2] = r[2], r[0]
			})
		}, `step 1 is "backup" in the journal but "preflight" in its plan`},
		{"unknown step state", func(t *testing.T) []byte {
			return journalEdit(t, good(t), func(doc map[string]any) {
				journalStepRecords(doc)[4].(map[string]any)["state"] = "halfway"
			})
		}, `step install-kernel has unknown state "halfway"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := steps.Store{Dir: t.TempDir()}
			data := tc.data(t)
			if err := os.WriteFile(store.JournalPath(), data, 0o600); err != nil {
				t.Fatal(err)
			}
			j, err := store.Load()
			var jerr *steps.JournalError
			if !errors.As(err, &jerr) {
				t.Fatalf("Load() = %v, %v; want a *JournalError", j, err)
			}
			if j != nil {
				t.Errorf("Load returned a journal with its error")
			}
			msg := err.Error()
			for _, want := range []string{
				store.JournalPath(),
				tc.reason,
				"zupgrade will not overwrite it",
				"mv " + store.JournalPath() + " " + store.JournalPath() + ".old",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q\ndoes not say %q", msg, want)
				}
			}

			now, err := os.ReadFile(store.JournalPath())
			if err != nil {
				t.Fatalf("the journal is gone: %v", err)
			}
			if !bytes.Equal(now, data) {
				t.Errorf("Load changed the journal")
			}
			if jerr.Copy == "" || filepath.Dir(jerr.Copy) != store.Dir {
				t.Fatalf("copy %q: want a copy beside the journal", jerr.Copy)
			}
			if !strings.Contains(msg, jerr.Copy) {
				t.Errorf("message %q does not name the copy %s", msg, jerr.Copy)
			}
			kept, err := os.ReadFile(jerr.Copy)
			if err != nil || !bytes.Equal(kept, data) {
				t.Errorf("the copy does not hold the journal's bytes (err %v)", err)
			}

			// Asking again (zupgrade status in a loop) refuses again and
			// keeps one copy, not one per attempt.
			_, err = store.Load()
			if !errors.As(err, &jerr) {
				t.Fatalf("second Load: %v, want a *JournalError", err)
			}
			var copies []string
			for _, n := range dirNames(t, store.Dir) {
				if n != "journal.json" {
					copies = append(copies, n)
				}
			}
			if len(copies) != 1 {
				t.Errorf("after two refusals the state directory holds %q besides the journal, want one copy", copies)
			}
		})
	}
}

func TestLockSameProcess(t *testing.T) {
	store := steps.Store{Dir: filepath.Join(t.TempDir(), "state")}
	unlock, err := store.Lock()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(store.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("state directory mode %v, want 0700", perm)
	}

	_, err = store.Lock()
	var locked *steps.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second Lock: %v, want a *LockedError", err)
	}
	if pid := "pid " + strconv.Itoa(os.Getpid()) + " "; !strings.HasPrefix(locked.Holder, pid) {
		t.Errorf("holder %q, want it to start with %q", locked.Holder, pid)
	}
	if msg := err.Error(); !strings.Contains(msg, locked.Holder) || !strings.Contains(msg, "wait for it to finish") {
		t.Errorf("message %q does not name the holder and what to do", msg)
	}

	unlock()
	unlock2, err := store.Lock()
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

// lockHolderEnv names the state directory the lock-holding child process
// locks.
const lockHolderEnv = "ZUPGRADE_TEST_LOCK_HOLDER_DIR"

// TestLockHolderProcess is not a test: it is the body of the child process
// that TestLockOtherProcess starts from this test binary. It takes the
// lock, says "locked", releases it when it reads "unlock" on its standard
// input, says "unlocked", and exits at the end of its input.
func TestLockHolderProcess(t *testing.T) {
	dir := os.Getenv(lockHolderEnv)
	if dir == "" {
		t.Skip("runs only as the child process of TestLockOtherProcess")
	}
	unlock, err := steps.Store{Dir: dir}.Lock()
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "unlock" {
			unlock()
			os.Stdout.WriteString("unlocked\n")
		}
	}
	os.Exit(0)
}

// lockHolder is a child process that holds the lock of a state directory.
type lockHolder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startLockHolder(t *testing.T, dir string) *lockHolder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &lockHolder{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return h
}

// await waits for the child to print want (or to exit; a child that hangs
// is ended by the test binary's own -timeout, not by a clock here).
func (h *lockHolder) await(t *testing.T, want string) {
	t.Helper()
	for l := range h.lines {
		if l == want {
			return
		}
		if strings.HasPrefix(l, "error ") {
			t.Fatalf("lock holder: %s", l)
		}
	}
	t.Fatalf("the lock holder exited before saying %q", want)
}

// wantLockedBy checks that Lock fails, naming pid as the holder.
func wantLockedBy(t *testing.T, store steps.Store, pid int) {
	t.Helper()
	unlock, err := store.Lock()
	if err == nil {
		unlock()
		t.Fatalf("Lock succeeded while pid %d holds the lock", pid)
	}
	var locked *steps.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("Lock: %v, want a *LockedError", err)
	}
	if want := "pid " + strconv.Itoa(pid) + " "; !strings.HasPrefix(locked.Holder, want) {
		t.Errorf("holder %q, want it to start with %q", locked.Holder, want)
	}
	if locked.Path != filepath.Join(store.Dir, "lock") {
		t.Errorf("path %q, want the state directory's lock", locked.Path)
	}
}

func TestLockOtherProcess(t *testing.T) {
	store := steps.Store{Dir: t.TempDir()}
	h := startLockHolder(t, store.Dir)
	h.await(t, "locked")
	wantLockedBy(t, store, h.cmd.Process.Pid)
	wantLockedBy(t, store, h.cmd.Process.Pid)

	if _, err := io.WriteString(h.stdin, "unlock\n"); err != nil {
		t.Fatal(err)
	}
	h.await(t, "unlocked")
	unlock, err := store.Lock()
	if err != nil {
		t.Fatalf("Lock after the other process unlocked: %v", err)
	}
	unlock()
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("lock holder: %v", err)
	}
}

// TestLockDiesWithHolder: kill -9 of the holder releases the lock; the
// next run takes it and names itself as the holder.
func TestLockDiesWithHolder(t *testing.T) {
	store := steps.Store{Dir: t.TempDir()}
	h := startLockHolder(t, store.Dir)
	h.await(t, "locked")
	wantLockedBy(t, store, h.cmd.Process.Pid)

	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
	unlock, err := store.Lock()
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	defer unlock()
	second := steps.Store{Dir: store.Dir}
	wantLockedBy(t, second, os.Getpid())
}

// TestStoreLoadRefusesUnknownStatus: a journal whose run status this
// zupgrade does not know (edited, or from another version) is refused, not
// resumed as if it were one it knows.
func TestStoreLoadRefusesUnknownStatus(t *testing.T) {
	store := steps.Store{Dir: t.TempDir()}
	j := midRunJournal(t)
	j.Status = "paused"
	if err := store.Save(j); err != nil {
		t.Fatal(err)
	}
	_, err := store.Load()
	var je *steps.JournalError
	if !errors.As(err, &je) || !strings.Contains(err.Error(), `unknown run status "paused"`) {
		t.Fatalf("Load of a journal with status paused: %v", err)
	}
}

// TestStoreRefusesUnsafeStateDir: a state directory that others can write
// to, or that is a symbolic link, could hold a journal (and so a plan)
// that is not zupgrade's; Lock refuses it, and Load refuses a journal that
// is a symbolic link.
func TestStoreRefusesUnsafeStateDir(t *testing.T) {
	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	link := filepath.Join(t.TempDir(), "state")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"writable by others": open, "a symbolic link": link, "relative": "var/db/zupgrade"} {
		unlock, err := steps.Store{Dir: dir}.Lock()
		var se *steps.StateDirError
		if !errors.As(err, &se) {
			if err == nil {
				unlock()
			}
			t.Errorf("Lock of a state directory %s: %v, want a *StateDirError", name, err)
		}
	}
	if st, err := os.Stat(open); err != nil || st.Mode().Perm() != 0o777 {
		t.Errorf("the refused directory was changed: %v %v", st.Mode(), err)
	}

	store := steps.Store{Dir: t.TempDir()}
	elsewhere := filepath.Join(t.TempDir(), "journal.json")
	j := midRunJournal(t)
	if err := (steps.Store{Dir: filepath.Dir(elsewhere)}).Save(j); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, store.JournalPath()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(); err == nil {
		t.Error("Load followed a journal that is a symbolic link")
	}
}
