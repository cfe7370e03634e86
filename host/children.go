// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Children keeps track, in a directory that outlives the process, of the
// commands an ExecRunner starts, so that a zupgrade killed mid-command
// does not leave its command running beside the next run's: a SIGKILL
// ends zupgrade, not the command it started (that one runs in a session
// of its own, and the kernel hands it to init).
//
// Every command inherits a descriptor of the file children.lock, locked
// (flock) by the zupgrade that started it: the lock is held as long as
// one of them runs, whoever started them. The file children names the
// process group of the command running now.
type Children struct {
	dir  string
	lock *os.File
}

// How long OpenChildren waits for a left-over command to end after each
// signal.
const childStopWait = 10 * time.Second

// OpenChildren takes the children lock of dir. When commands of an earlier
// process still hold it and the process group recorded there still runs,
// it ends that group with SIGTERM, then SIGKILL, saying so on report,
// until the lock is free or the group gone; a group that outlives both is
// an error naming it. A lock held by no recorded command (a daemon that a
// command started and that inherited the descriptor) is left to its
// holders: the file is replaced. The caller holds the state directory's
// lock, so that no other zupgrade runs.
func OpenChildren(dir string, report io.Writer) (*Children, error) {
	path := filepath.Join(dir, "children.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	c := &Children{dir: dir, lock: f}
	if c.tryLock() {
		os.Remove(c.recordPath())
		return c, nil
	}
	pgid, argv := c.recorded()
	gone := func() bool { return pgid <= 0 || syscall.Kill(-pgid, 0) != nil }
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if gone() {
			break
		}
		fmt.Fprintf(report, "stopping %s (process group %d), which a zupgrade that was killed left running (%v)\n", argv, pgid, sig)
		syscall.Kill(-pgid, sig)
		// A killed process lets go of the lock as it exits, before its
		// parent reaps it (a zombie still counts in its group).
		for end := time.Now().Add(childStopWait); time.Now().Before(end) && !gone(); time.Sleep(50 * time.Millisecond) {
			if c.tryLock() {
				os.Remove(c.recordPath())
				return c, nil
			}
		}
	}
	if !gone() {
		f.Close()
		return nil, fmt.Errorf("%s (process group %d), which an earlier zupgrade started, still runs after SIGKILL: stop it, then run zupgrade again", argv, pgid)
	}
	// What holds the lock now is no command of a run.
	f.Close()
	os.Remove(c.recordPath())
	if err := os.Remove(path); err != nil {
		return nil, err
	}
	if f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600); err != nil {
		return nil, err
	}
	c.lock = f
	if !c.tryLock() {
		f.Close()
		return nil, fmt.Errorf("%s is locked by another process: run zupgrade again", path)
	}
	return c, nil
}

// tryLock takes the lock if no process holds it.
func (c *Children) tryLock() bool {
	return syscall.Flock(int(c.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}

func (c *Children) recordPath() string { return filepath.Join(c.dir, "children") }

// recorded reads the process group and command line of the record; 0
// when there is none.
func (c *Children) recorded() (int, string) {
	data, err := os.ReadFile(c.recordPath())
	if err != nil {
		return 0, ""
	}
	first, argv, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	pgid, err := strconv.Atoi(first)
	if err != nil || pgid <= 1 {
		return 0, ""
	}
	return pgid, argv
}

// prepare gives the command the lock's descriptor. A nil Children does
// nothing, here and below.
func (c *Children) prepare(cmd *exec.Cmd) {
	if c != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, c.lock)
	}
}

// started records the process group of a command just started (it leads
// a session of its own, so its pid is its group).
func (c *Children) started(cmd *exec.Cmd, line string) {
	if c != nil && cmd.Process != nil {
		_ = os.WriteFile(c.recordPath(), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"+line+"\n"), 0o600)
	}
}

// ended removes the record of a command that ended.
func (c *Children) ended() {
	if c != nil {
		os.Remove(c.recordPath())
	}
}

// Close releases the lock.
func (c *Children) Close() error {
	if c == nil {
		return nil
	}
	return c.lock.Close()
}
