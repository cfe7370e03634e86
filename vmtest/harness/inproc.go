// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Binaries are the programs a scenario needs, built once per test binary.
type Binaries struct {
	Zupgrade string
	Simhost  string
	// Guest is the guest agent (Linux guest back-end only).
	Guest string
}

// Build builds zupgrade, simhost and the guest agent for the host (Linux
// amd64 for the guest) into dir. zupgrade is built with the
// zupgrade_crashtest tag, which gives it the crash hook of the jobs'
// CrashAt (ZUPGRADE_CRASH_AT).
func Build(dir string) (*Binaries, error) {
	b := &Binaries{
		Zupgrade: filepath.Join(dir, "zupgrade"),
		Simhost:  filepath.Join(dir, "simhost"),
		Guest:    filepath.Join(dir, "vmguest"),
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		gocmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	for _, p := range []struct{ out, pkg, tags string }{
		{b.Zupgrade, "github.com/zupgrade/zupgrade/cmd/zupgrade", "zupgrade_crashtest"},
		{b.Simhost, "github.com/zupgrade/zupgrade/vmtest/simhost/cmd/simhost", ""},
		{b.Guest, "github.com/zupgrade/zupgrade/vmtest/harness/cmd/vmguest", ""},
	} {
		cmd := exec.Command(gocmd, "build", "-tags", p.tags, "-o", p.out, p.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", p.pkg, err, out)
		}
	}
	return b, nil
}

// BuildFreeBSD builds zupgrade for FreeBSD amd64 into dir (the image
// back-end copies it into the guest) and returns its path. It is built
// with the zupgrade_crashtest tag, as Build builds it: the jobs' CrashAt
// needs the crash hook.
func BuildFreeBSD(dir string) (string, error) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		gocmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "zupgrade-freebsd-amd64")
	cmd := exec.Command(gocmd, "build", "-tags", "zupgrade_crashtest", "-o", out, "github.com/zupgrade/zupgrade/cmd/zupgrade")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=freebsd", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build zupgrade for FreeBSD: %v\n%s", err, msg)
	}
	return out, nil
}

// InProcess is back-end 1: the machine is a simhost machine in a
// directory of the host, zupgrade runs as a process of the host.
type InProcess struct {
	mc   *Machine
	fifo string
}

// NewInProcess makes the scenario's machine in dir.
func NewInProcess(dir string, sc *Scenario, bins *Binaries) (*InProcess, error) {
	root := filepath.Join(dir, "root")
	if _, err := simhost.New(root, sc.Machine, bins.Simhost); err != nil {
		return nil, fmt.Errorf("the scenario's machine: %w", err)
	}
	mc, err := NewMachine(root, bins.Zupgrade)
	if err != nil {
		return nil, err
	}
	fifo := filepath.Join(dir, "power-cut")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return nil, err
	}
	return &InProcess{mc: mc, fifo: fifo}, nil
}

// Name is "in-process".
func (p *InProcess) Name() string { return "in-process" }

// Launch runs the job on the host. A power cut kills every process of
// the machine, as the power would.
func (p *InProcess) Launch(ctx context.Context, job Job) (*JobResult, error) {
	return p.mc.RunJob(ctx, job, p.fifo, p.killMachine)
}

// killMachine kills every process running on the machine: those with its
// SIMHOST_ROOT in their environment (read from /proc, so Linux only).
func (p *InProcess) killMachine() {
	marker := []byte(simhost.RootEnv + "=" + p.mc.M.Root + "\x00")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, marker) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
