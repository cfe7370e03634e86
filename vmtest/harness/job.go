// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// The job kinds: what one launch of the machine does.
const (
	// JobApply runs zupgrade apply on the running machine.
	JobApply = "apply"
	// JobBoot boots the machine (after a reboot or a power cut) and runs
	// its boot hooks.
	JobBoot = "boot"
	// JobObserve reads the end state, booting from each disk alone.
	JobObserve = "observe"
	// JobProbe only reports that the guest came up (the KVM probe).
	JobProbe = "probe"
)

// Job is one launch's work, the same for every back-end: in process it
// runs on the host, in the Linux guest the guest agent runs it.
type Job struct {
	Kind string `json:"kind"`
	// Apply are zupgrade apply's arguments (JobApply).
	Apply []string `json:"apply,omitempty"`
	// CrashAt is a zupgrade crash point (STEP:POINT) for this run (or,
	// for JobBoot, for the run the boot hook resumes); CrashIsCut makes
	// reaching it a power cut rather than a SIGKILL.
	CrashAt    string `json:"crash_at,omitempty"`
	CrashIsCut bool   `json:"crash_is_cut,omitempty"`
	// Arm are simhost faults armed before the job; Remove are disks
	// pulled out before it.
	Arm    []simhost.Fault `json:"arm,omitempty"`
	Remove []string        `json:"remove,omitempty"`
	// Replace are disks replaced before the job: a new blank disk at the
	// name, partitioned like the others and zpool-replaced onto.
	Replace []simhost.Replacement `json:"replace,omitempty"`
	// StateDir is zupgrade's state directory, a path of the machine, when
	// it is not the default /var/db/zupgrade (Scenario.StateDir).
	StateDir string `json:"state_dir,omitempty"`
}

// JobResult is what a job did.
type JobResult struct {
	// Exit is zupgrade's exit status (apply), or the boot hook's (boot);
	// -1 when zupgrade was killed.
	Exit int `json:"exit"`
	// Output is zupgrade's output, or the boot's console and hook output.
	Output string `json:"output"`
	// Booted and Reason are the boot's result (JobBoot).
	Booted bool   `json:"booted,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Cut is true when the power was cut during the job; Down when the
	// machine is off or going down at its end (boot it next).
	Cut  bool `json:"cut,omitempty"`
	Down bool `json:"down,omitempty"`
	// Journal is the run's status at the end ("" when there is none).
	Journal string `json:"journal,omitempty"`
	// Outcome is the end state (JobObserve).
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Machine is a simulated host with zupgrade installed: the paths the jobs
// need, the same on the host and in the guest.
type Machine struct {
	M        *simhost.Machine
	Zupgrade string // the zupgrade binary
	StateDir string // zupgrade's state directory
	// CommitWrites makes each simulated command sync what it wrote
	// (simhost.SyncEnv): the machine's files are on a real disk.
	CommitWrites bool
	// Echo, when set, also gets zupgrade's output as it is written (the
	// guest's console, so that a long run is never silent).
	Echo io.Writer
}

// NewMachine opens the machine at root with zupgrade's state directory at
// ROOT/var/db/zupgrade.
//
// zupgrade runs from a copy inside the machine, at /usr/local/sbin/zupgrade,
// as an admin installs it: its boot hook runs a copy made through the
// simulated install(1), which reads only the machine's files.
func NewMachine(root, zupgrade string) (*Machine, error) {
	m, err := simhost.Open(root)
	if err != nil {
		return nil, err
	}
	exe := m.HostPath("/usr/local/sbin/zupgrade")
	if _, err := os.Stat(exe); err != nil {
		data, err := os.ReadFile(zupgrade)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(exe, data, 0o555); err != nil {
			return nil, err
		}
	}
	return &Machine{M: m, Zupgrade: exe, StateDir: filepath.Join(m.Root, "var/db/zupgrade")}, nil
}

// Pauser is told when the power is cut at a named point. In the Linux
// guest it reports "pause" on the console and blocks until the host
// freezes and stops the VM; in process it kills what runs on the machine
// and returns.
type Pauser func()

// RunJob runs one job on the machine. fifo is the path of a FIFO that the
// simulated commands report a power cut to (simhost.PauseEnv); pause is
// called when the power is cut at a named point.
func (mc *Machine) RunJob(ctx context.Context, job Job, fifo string, pause Pauser) (*JobResult, error) {
	if job.StateDir != "" {
		mc.StateDir = mc.M.HostPath(job.StateDir)
	}
	if job.Kind != JobBoot {
		// A machine that runs on into this launch: its real root is
		// mounted again (a boot mounts the one it chooses).
		if err := mc.M.ResumeRealRoot(); err != nil {
			return nil, err
		}
	}
	for _, d := range job.Remove {
		if err := mc.M.RemoveDisk(d); err != nil {
			return nil, err
		}
	}
	for _, r := range job.Replace {
		if err := mc.M.ReplaceDisk(r); err != nil {
			return nil, err
		}
	}
	for _, f := range job.Arm {
		if err := mc.M.AddFault(f); err != nil {
			return nil, err
		}
	}
	env := []string{"LC_ALL=C", simhost.PauseEnv + "=" + fifo}
	if mc.CommitWrites {
		env = append(env, simhost.SyncEnv+"=1")
	}
	res := &JobResult{}
	var err error
	switch job.Kind {
	case JobApply:
		err = mc.apply(ctx, job, env, fifo, pause, res)
	case JobBoot:
		err = mc.boot(ctx, job, env, fifo, pause, res)
	case JobObserve:
		res.Outcome, err = mc.Observe()
	default:
		err = fmt.Errorf("unknown job kind %q", job.Kind)
	}
	if err != nil {
		return nil, err
	}
	model, err := mc.M.Model()
	if err != nil {
		return nil, err
	}
	res.Down = model.Running == nil || model.Power != simhost.PowerOn
	if j, err := (steps.Store{Dir: mc.StateDir}).Load(); err == nil && j != nil {
		res.Journal = string(j.Status)
	}
	return res, nil
}

// watchCuts reads the power-cut FIFO and calls pause at the first report.
// It returns a function that stops watching and says whether a cut came.
func watchCuts(fifo string, pause Pauser) (stop func() bool, err error) {
	// Opened read-write, the FIFO's open never blocks and reads do not
	// end while no command has it open.
	r, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	cut := make(chan bool, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err == nil && line == "pause\n" {
			pause()
			cut <- true
			return
		}
		cut <- false
	}()
	return func() bool {
		r.Close()
		return <-cut
	}, nil
}

func (mc *Machine) apply(ctx context.Context, job Job, env []string, fifo string, pause Pauser, res *JobResult) error {
	stop, err := watchCuts(fifo, pause)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, mc.Zupgrade, append([]string{"--state-dir", mc.StateDir, "apply"}, job.Apply...)...)
	cmd.Env = append(append(mc.M.Env(), env...), "ZUPGRADE_CRASH_AT="+job.CrashAt)
	cmd.Dir = mc.M.Root
	cmd.Stdin = strings.NewReader("")
	var out bytes.Buffer
	cmd.Stdout = &out
	if mc.Echo != nil {
		cmd.Stdout = io.MultiWriter(&out, mc.Echo)
	}
	cmd.Stderr = cmd.Stdout
	// Its own process group, so that a cut kills the simulated commands
	// it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		stop()
		return err
	}
	pgid := cmd.Process.Pid
	err = cmd.Wait()
	res.Output = out.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Exit = ee.ExitCode()
	default:
		stop()
		return err
	}
	killed := res.Exit == -1
	if killed && job.CrashAt != "" && job.CrashIsCut {
		// zupgrade stopped itself at the crash point: the power goes now.
		res.Cut = true
		syscall.Kill(-pgid, syscall.SIGKILL)
		stop()
		pause()
		return mc.M.PowerCut()
	}
	// A simulated command whose power-cut fault fired has reported it
	// and blocks; zupgrade returned only if the pause did not stop it.
	syscall.Kill(-pgid, syscall.SIGKILL)
	if stop() {
		res.Cut = true
	}
	return nil
}

func (mc *Machine) boot(ctx context.Context, job Job, env []string, fifo string, pause Pauser, res *JobResult) error {
	stop, err := watchCuts(fifo, pause)
	if err != nil {
		return err
	}
	hookEnv := env
	if job.CrashAt != "" {
		// Test instrumentation, like the pause FIFO: the run the boot
		// hook resumes stops at the crash point.
		hookEnv = append(slices.Clip(env), "ZUPGRADE_CRASH_AT="+job.CrashAt)
	}
	rep, err := mc.M.Boot(simhost.BootOptions{Env: hookEnv})
	if err != nil {
		stop()
		return err
	}
	// daemon(8) detaches the resumed run from the boot: wait for what the
	// hooks started (a power cut during it kills it, which ends the wait).
	procs, err := mc.M.Wait(ctx)
	res.Cut = stop()
	if err != nil {
		return err
	}
	res.Booted, res.Reason = rep.Booted, rep.Reason
	var b strings.Builder
	for _, l := range rep.Console {
		fmt.Fprintf(&b, "console: %s\n", l)
	}
	for _, h := range rep.Hooks {
		fmt.Fprintf(&b, "hook %s: exit %d\n%s", h.Script, h.Exit, h.Output)
		if strings.HasSuffix(h.Script, "/zupgrade") {
			res.Exit = h.Exit
		}
	}
	crashed := false
	for _, p := range procs {
		if slices.Contains(p.Argv, "--resume") {
			fmt.Fprintf(&b, "resumed run %v: %s, exit %d\n", p.Argv, p.State, p.Exit)
			res.Exit = p.Exit
			// zupgrade kills itself with SIGKILL at its crash point.
			crashed = crashed || (job.CrashAt != "" && p.Exit == 128+int(syscall.SIGKILL))
		}
	}
	resumeLog := filepath.Join(steps.LogDirFor(mc.StateDir), "resume.log")
	if data, err := os.ReadFile(resumeLog); err == nil {
		fmt.Fprintf(&b, "resume.log:\n%s", data)
		os.Remove(resumeLog)
	}
	res.Output = b.String()
	if crashed {
		res.Exit = -1
		if job.CrashIsCut && !res.Cut {
			// zupgrade stopped itself at the crash point: the power
			// goes now.
			res.Cut = true
			pause()
			return mc.M.PowerCut()
		}
	}
	return nil
}
