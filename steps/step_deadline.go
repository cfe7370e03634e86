// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/zupgrade/zupgrade/internal/durable"
)

// The deadline of a staged upgrade's trial boot: the hardware watchdog,
// armed early in the trial's rc and disarmed once its health checks
// passed, resets a trial that hangs, or whose run never resumes, and the
// boot after the reset is the old boot environment's.
//
// What can be armed, from the sources: watchdog(8) pats the watchdog
// once with a timeout (usr.sbin/watchdogd/watchdogd.c, invoked as
// watchdog); a watchdog driver that takes it resets the machine when
// nothing pats it again in time, and -t 0 turns it off. Where no driver
// takes it, /dev/fido answers EOPNOTSUPP (sys/dev/watchdog/watchdog.c
// kern_do_pat), as on most virtual machines, and nothing resets a hung
// trial. Nothing in user space runs before rc, so a hang of the kernel
// or of mountroot is not covered (a panic reboots by itself). A reset
// turns the watchdog off, so it is armed in the trial boot itself, by an
// rc.d script of the new boot environment that runs once.

// DefaultTrialDeadline is the trial's deadline when none is given, in
// seconds: enough for a slow boot, its services and the health checks.
const DefaultTrialDeadline = 15 * 60

// trialDeadline is the deadline of the trial in seconds, 0 for none.
func (o Options) trialDeadline() int {
	switch {
	case o.TrialDeadline < 0:
		return 0
	case o.TrialDeadline == 0:
		return DefaultTrialDeadline
	}
	return o.TrialDeadline
}

// The rc.d script that arms the watchdog at the trial boot, and the
// rc.conf.d file that enables it for that boot, in the new boot
// environment.
const (
	trialRCScript = "/usr/local/etc/rc.d/zupgrade_trial"
	trialRCConf   = "/etc/rc.conf.d/zupgrade_trial"
)

// trialScript is the rc.d script that arms the watchdog: early in rc
// (after the local file systems mount), once; it turns itself off first.
//
//go:embed rc.d/zupgrade_trial
var trialScript []byte

// stageDeadlineStep writes the trial's deadline into the mounted new
// boot environment.
type stageDeadlineStep struct{}

func (stageDeadlineStep) id() string       { return StepStageDeadline }
func (stageDeadlineStep) rerunnable() bool { return true }

func (stageDeadlineStep) plan(b builder) Step {
	s, secs := b.staged, b.opts.trialDeadline()
	mnt := s.MountPoint
	st := Step{ID: StepStageDeadline, Title: fmt.Sprintf("Arm a deadline of %s for the trial boot of %s (the hardware watchdog)", time.Duration(secs)*time.Second, s.BootEnv),
		Commands: []Cmd{
			cmdFor(&MakeDir{Path: path.Join(mnt, path.Dir(trialRCScript))}, Cond{}),
			cmdFor(&InstallFile{Source: path.Join(b.opts.StateDir, "rc.d", path.Base(trialRCScript)), Target: path.Join(mnt, trialRCScript), Mode: "0555"}, Cond{}),
			cmdFor(&MakeDir{Path: path.Join(mnt, path.Dir(trialRCConf))}, Cond{}),
			cmdFor(&Sysrc{File: path.Join(mnt, trialRCConf), Vars: []RCVar{
				{Name: "zupgrade_trial_enable", Value: "YES"},
				{Name: "zupgrade_trial_timeout", Value: strconv.Itoa(secs)},
			}}, Cond{}),
		},
		Verify: Verification{Check: VerifyTrialDeadline, Name: s.BootEnv, Path: mnt},
		Notes: []string{
			fmt.Sprintf("early in the trial boot (after the local file systems mount) %s runs watchdog -t %d once: a trial that hangs after that point (rc, a service, zupgrade's health checks) or whose run never resumes is reset by the watchdog, and the boot after it is %s's; the run turns it off (watchdog -t 0) once the health checks passed", trialRCScript, secs, s.Running),
			"not covered: a hang before rc starts (the kernel, mountroot: a panic reboots by itself); a host with no watchdog driver (watchdog(4); most virtual machines), where watchdog -t fails with \"Operation not supported\" and the trial's console and zupgrade status say so: there a hung trial waits for a reset by hand",
			"where watchdogd(8) is enabled, it pats the watchdog from its own start on with its own timeout, which replaces the deadline for the rest of the trial",
		}}
	if secs == 0 {
		st.Skip = "--trial-deadline 0: no watchdog is armed for the trial boot; a trial that hangs waits for a reset by hand"
	}
	return st
}

// done: writing it again is harmless and cheap, so it always runs.
func (stageDeadlineStep) done(*stepContext, context.Context) (bool, error) { return false, nil }

func (stageDeadlineStep) run(sc *stepContext, ctx context.Context) error {
	dir := filepath.Join(sc.e.Store.Dir, "rc.d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(dir, path.Base(trialRCScript)), trialScript, 0o600); err != nil {
		return err
	}
	if err := sc.mountStage(ctx); err != nil {
		return err
	}
	return sc.runCommands(ctx)
}

// disarmCommands are what the commit runs before it keeps the new boot
// environment when the plan armed a deadline: the watchdog turned off,
// and the deadline's files removed so that no later boot arms it again.
func disarmCommands(b builder) []Cmd {
	if b.opts.trialDeadline() == 0 {
		return nil
	}
	return []Cmd{
		cmdFor(&Watchdog{Timeout: 0}, Cond{}),
		cmdFor(&RemoveFile{Path: trialRCScript}, Cond{}),
		cmdFor(&RemoveFile{Path: trialRCConf}, Cond{}),
	}
}
