// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/internal/durable"
)

// JournalFormat is the version of the journal file. A journal of another
// version is refused, never rewritten. Format 2 holds the plan of format
// 2 (typed operations).
const JournalFormat = 2

// RunStatus is where a run stands as a whole.
type RunStatus string

// The statuses of a run.
const (
	// StatusRunning: a step is being run (or the process died while it was).
	StatusRunning RunStatus = "running"
	// StatusRebooting: a checkpoint asked for a reboot; the boot hook
	// resumes the run.
	StatusRebooting RunStatus = "rebooting"
	// StatusCheckpoint: stopped at a checkpoint (--no-reboot); reboot and
	// run apply again.
	StatusCheckpoint RunStatus = "checkpoint"
	// StatusFailed: a step failed; fix the cause and run apply again.
	StatusFailed RunStatus = "failed"
	// StatusDone: every step is done.
	StatusDone RunStatus = "done"
	// StatusRolledBack: zupgrade rollback returned the host to the backup;
	// the next apply starts a new run.
	StatusRolledBack RunStatus = "rolled-back"
	// StatusInterrupted: SIGINT or SIGTERM stopped the run at a safe point
	// (Engine.Interrupted); apply resumes it.
	StatusInterrupted RunStatus = "interrupted"
)

// known reports whether s is one of the statuses above.
func (s RunStatus) known() bool {
	switch s {
	case StatusRunning, StatusRebooting, StatusCheckpoint, StatusFailed, StatusDone, StatusRolledBack, StatusInterrupted:
		return true
	}
	return false
}

// StepState is where one step stands.
type StepState string

// The states of a step.
const (
	StepPending StepState = "pending"
	StepStarted StepState = "started"
	StepDone    StepState = "done"
	StepSkipped StepState = "skipped"
)

// StepRecord is the journal's record of one step.
type StepRecord struct {
	ID       string     `json:"id"`
	State    StepState  `json:"state"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	// Attempts counts how often the step was started.
	Attempts int `json:"attempts,omitempty"`
	// Note says how the step ended (e.g. "already done on the host").
	Note string `json:"note,omitempty"`
	// BootTime is kern.boottime when a checkpoint asked for its reboot;
	// a different boot time later proves the reboot happened.
	BootTime string `json:"boot_time,omitempty"`
}

// Journal is the durable record of one apply run: the plan it executes and
// where each step stands. It lives in one file of the state directory and
// is replaced atomically on every change.
type Journal struct {
	Format  int       `json:"format"`
	RunID   string    `json:"run_id"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Status  RunStatus `json:"status"`
	Message string    `json:"message,omitempty"`
	// NoReboot: the run was started with --no-reboot; every checkpoint of
	// it stops (also when the boot hook resumes it) and leaves the reboot
	// to the admin or the fleet tool.
	NoReboot bool `json:"no_reboot,omitempty"`
	// FellBack: the staged run's trial failed and the boot environment
	// it upgraded from runs again, where the run ended saying why
	// (Message). The run is over: apply does not resume it, rollback
	// closes it.
	FellBack bool         `json:"fell_back,omitempty"`
	Plan     *Plan        `json:"plan"`
	Steps    []StepRecord `json:"steps"`
}

// NewJournal starts a journal for plan.
func NewJournal(plan *Plan, now time.Time) *Journal {
	j := &Journal{Format: JournalFormat, RunID: now.UTC().Format("20060102T150405Z"), Created: now, Updated: now, Status: StatusRunning, Plan: plan}
	for _, s := range plan.Steps {
		st := StepPending
		if s.Skip != "" {
			st = StepSkipped
		}
		j.Steps = append(j.Steps, StepRecord{ID: s.ID, State: st, Note: s.Skip})
	}
	return j
}

// Record returns the record of step id.
func (j *Journal) Record(id string) *StepRecord {
	for i := range j.Steps {
		if j.Steps[i].ID == id {
			return &j.Steps[i]
		}
	}
	return nil
}

// Current returns the first step not done or skipped, or nil when the run
// is complete.
func (j *Journal) Current() *StepRecord {
	for i := range j.Steps {
		if s := j.Steps[i].State; s != StepDone && s != StepSkipped {
			return &j.Steps[i]
		}
	}
	return nil
}

// Store keeps zupgrade's files in its state directory: the journal and the
// lock.
type Store struct {
	Dir string
	// BootEnv is the boot environment (root dataset) this zupgrade runs
	// in, "" when unknown. The lock's owner record names it, so that a
	// record found in another boot environment (a copy of the state
	// directory taken while a run held the lock) is never taken for a
	// live run there.
	BootEnv string
}

// LockOwner is the record the holder of the lock writes beside it.
type LockOwner struct {
	Pid     int       `json:"pid"`
	BootEnv string    `json:"boot_env,omitempty"`
	Since   time.Time `json:"since"`
}

func (o *LockOwner) String() string {
	s := fmt.Sprintf("pid %d since %s", o.Pid, o.Since.UTC().Format(time.RFC3339))
	if o.BootEnv != "" {
		s += ", boot environment " + o.BootEnv
	}
	return s
}

// Owner returns the live holder of the lock as its record names it, or
// nil: no record, one zupgrade cannot read, one written in another boot
// environment than s.BootEnv (when both are known), or one whose process
// is gone (killed, or the host rebooted) or holds no lock (its pid reused
// after a boot). It does not take the lock for a run.
func (s Store) Owner() *LockOwner {
	data, err := os.ReadFile(s.lockPath() + ".owner")
	if err != nil {
		return nil
	}
	var o LockOwner
	if err := json.Unmarshal(data, &o); err != nil || o.Pid <= 0 {
		return nil
	}
	if o.BootEnv != "" && s.BootEnv != "" && o.BootEnv != s.BootEnv {
		return nil
	}
	if err := syscall.Kill(o.Pid, 0); errors.Is(err, syscall.ESRCH) {
		return nil
	}
	if !s.lockHeld() {
		// The record outlived its run (a power cut), and its pid went
		// to another process since: a boot hands pids out in the same
		// order each time.
		return nil
	}
	return &o
}

// lockHeld reports whether a process holds the state directory's lock,
// asked with a shared flock(2) that fails only while the exclusive one is
// held, and released at once. It creates no file. Asked only when a record
// names a live pid, so the moment it holds the shared lock can delay no
// run but one that starts in the same instant a stale record is read.
func (s Store) lockHeld() bool {
	f, err := os.Open(s.lockPath())
	if err != nil {
		// No lock file: no holder. One this user cannot open: the
		// record is trusted, as before there was this check.
		return !errors.Is(err, os.ErrNotExist)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// JournalPath is the journal file.
func (s Store) JournalPath() string { return filepath.Join(s.Dir, "journal.json") }

func (s Store) lockPath() string { return filepath.Join(s.Dir, "lock") }

// JournalError reports a journal zupgrade cannot use. The file is left in
// place and a copy is kept beside it.
type JournalError struct {
	Path   string
	Copy   string
	Reason string
}

func (e *JournalError) Error() string {
	msg := fmt.Sprintf("journal %s: %s", e.Path, e.Reason)
	if e.Copy != "" {
		msg += fmt.Sprintf("; a copy is kept at %s", e.Copy)
	}
	return msg + "; zupgrade will not overwrite it: inspect it, and move it away (mv " + e.Path + " " + e.Path + ".old) to start a new run"
}

// Load reads the journal; it returns (nil, nil) when there is none. A
// truncated, corrupt or newer journal is a *JournalError.
func (s Store) Load() (*Journal, error) {
	if err := s.checkDir(); err != nil {
		return nil, err
	}
	data, err := readNoFollow(s.JournalPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var j Journal
	fail := func(reason string) (*Journal, error) {
		return nil, &JournalError{Path: s.JournalPath(), Copy: s.keepCopy(data), Reason: reason}
	}
	var head struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fail("not a valid journal (" + err.Error() + "): truncated or damaged")
	}
	switch {
	case head.Format > JournalFormat:
		return fail(fmt.Sprintf("written by a newer zupgrade (journal format %d, this one reads %d): finish the run with the zupgrade that started it", head.Format, JournalFormat))
	case head.Format >= 1 && head.Format < JournalFormat:
		return fail(fmt.Sprintf("written by an older zupgrade (journal format %d, this one reads %d), whose run is not finished: finish it with the zupgrade that started it (%s apply), or roll back to its backup%s", head.Format, JournalFormat, hookBinary, oldBackupHint(data)))
	case head.Format != JournalFormat:
		return fail(fmt.Sprintf("unknown journal format %d", head.Format))
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return fail("not a valid journal (" + err.Error() + "): truncated or damaged")
	}
	switch {
	case !j.Status.known():
		return fail(fmt.Sprintf("unknown run status %q", j.Status))
	case j.Plan == nil || len(j.Steps) != len(j.Plan.Steps):
		return fail("the journal's steps do not match its plan")
	}
	for i, r := range j.Steps {
		if r.ID != j.Plan.Steps[i].ID {
			return fail(fmt.Sprintf("step %d is %q in the journal but %q in its plan", i+1, r.ID, j.Plan.Steps[i].ID))
		}
		switch r.State {
		case StepPending, StepStarted, StepDone, StepSkipped:
		default:
			return fail(fmt.Sprintf("step %s has unknown state %q", r.ID, r.State))
		}
	}
	return &j, nil
}

// oldBackupHint says how to return to the backup an older journal's run
// made ("" when it names none): its backup step's command, whose last
// argument was the boot environment or snapshot.
func oldBackupHint(data []byte) string {
	var old struct {
		Plan struct {
			Steps []struct {
				ID       string `json:"id"`
				Commands []struct {
					Args []string `json:"args"`
				} `json:"commands"`
			} `json:"steps"`
		} `json:"plan"`
	}
	if json.Unmarshal(data, &old) != nil {
		return ""
	}
	for _, s := range old.Plan.Steps {
		if s.ID != StepBackup || len(s.Commands) == 0 || len(s.Commands[0].Args) < 2 {
			continue
		}
		a := s.Commands[0].Args
		name := a[len(a)-1]
		if a[0] == bootenv.Program {
			if _, err := bootenv.ActivateArgs(name, false); err == nil {
				return " (bectl activate " + name + ", then reboot)"
			}
			return ""
		}
		if ds, snap, ok := strings.Cut(name, "@"); ok && bootenv.ValidateDataset(ds) == nil && bootenv.ValidateName(snap) == nil {
			return " (the snapshot " + name + ": see zfs-rollback(8))"
		}
	}
	return ""
}

// keepCopy saves data beside the journal and returns the copy's path. A
// copy of the same bytes kept earlier is reused, so that asking again
// (zupgrade status in a loop) does not fill the state directory.
func (s Store) keepCopy(data []byte) string {
	prefix := filepath.Base(s.JournalPath()) + ".bad-"
	if ents, err := os.ReadDir(s.Dir); err == nil {
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
				continue
			}
			p := filepath.Join(s.Dir, e.Name())
			if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
				return p
			}
		}
	}
	p := s.JournalPath() + ".bad-" + time.Now().UTC().Format("20060102T150405.000000000")
	if err := durable.WriteFile(p, data, 0o600); err != nil {
		return ""
	}
	return p
}

// Save writes the journal durably: a temporary file, fsync, rename over the
// journal, fsync of the directory. A crash leaves the old or the new
// journal, never a mix.
func (s Store) Save(j *Journal) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(s.JournalPath(), append(data, '\n'), 0o600)
}

// Remove deletes the journal (after a run ends, when asked).
func (s Store) Remove() error {
	err := os.Remove(s.JournalPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// StateDirError reports a state directory zupgrade will not use: its
// journal holds the plan a resumed run carries out as root, so no one but
// zupgrade's own user may be able to put one there.
type StateDirError struct {
	Dir    string
	Reason string
}

func (e *StateDirError) Error() string {
	return fmt.Sprintf("state directory %s: %s; zupgrade uses only an absolute directory of its own user that no one else can write to (check what it holds before you fix it: chown root, chmod 700)", e.Dir, e.Reason)
}

// EnsureDir creates the state directory, private to its user, or returns
// a *StateDirError when it is not one zupgrade uses (see checkDir; nothing
// is changed then).
func (s Store) EnsureDir() error {
	if !filepath.IsAbs(s.Dir) {
		return &StateDirError{Dir: s.Dir, Reason: "it is a relative path"}
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	if err := s.checkDir(); err != nil {
		return err
	}
	return os.Chmod(s.Dir, 0o700)
}

// checkDir returns a *StateDirError when the state directory is relative,
// a symbolic link, another user's, or writable by group or others; nil
// when it is fine or does not exist.
func (s Store) checkDir() error {
	if !filepath.IsAbs(s.Dir) {
		return &StateDirError{Dir: s.Dir, Reason: "it is a relative path"}
	}
	fi, err := os.Lstat(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return &StateDirError{Dir: s.Dir, Reason: "it is a symbolic link"}
	case !fi.IsDir():
		return &StateDirError{Dir: s.Dir, Reason: "it is not a directory"}
	case fi.Mode().Perm()&0o022 != 0:
		return &StateDirError{Dir: s.Dir, Reason: fmt.Sprintf("its mode %04o lets others write to it", fi.Mode().Perm())}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return &StateDirError{Dir: s.Dir, Reason: fmt.Sprintf("it belongs to uid %d", st.Uid)}
	}
	return nil
}

// LockedError reports that another run holds the lock.
type LockedError struct {
	Path   string
	Holder string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another zupgrade run holds %s (%s); wait for it to finish", e.Path, e.Holder)
}

// Lock takes the state directory's exclusive lock, or returns a
// *LockedError naming the holder. The lock dies with the process.
func (s Store) Lock() (unlock func(), err error) {
	if err := s.EnsureDir(); err != nil {
		return nil, err
	}
	fl := flock.New(s.lockPath())
	ok, err := fl.TryLock()
	if err != nil {
		return nil, err
	}
	if !ok {
		holder := "holder unknown"
		if o := s.Owner(); o != nil {
			holder = o.String()
		}
		return nil, &LockedError{Path: s.lockPath(), Holder: holder}
	}
	// Temporary files of saves cut short by a crash are leftovers now that
	// no one else can be writing.
	for _, pat := range []string{durable.TempPattern(s.JournalPath()), durable.TempPattern(s.lockPath() + ".owner"), filepath.Join(s.Dir, "."+filepath.Base(s.JournalPath())+".bad-*"), filepath.Join(s.Dir, ".*.tmp-*")} {
		stale, _ := filepath.Glob(pat)
		for _, f := range stale {
			os.Remove(f)
		}
	}
	owner, _ := json.Marshal(LockOwner{Pid: os.Getpid(), BootEnv: s.BootEnv, Since: time.Now().UTC().Truncate(time.Second)})
	_ = durable.WriteFile(s.lockPath()+".owner", append(owner, '\n'), 0o600)
	return func() {
		os.Remove(s.lockPath() + ".owner")
		fl.Unlock()
	}, nil
}

// readNoFollow reads a file that must not be a symbolic link (O_NOFOLLOW):
// zupgrade writes its files itself and never links them.
func readNoFollow(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is a symbolic link, which zupgrade never makes: inspect it and remove it", path)
		}
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
