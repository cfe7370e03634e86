// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// binaryOnce builds the simhost command once, for the tests that go
// through the bin/ links.
var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

// simhostBinary returns the built simhost command, building it first.
func simhostBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "simhost-test-bin")
		if binaryErr == nil {
			binaryPath, binaryErr = BuildBinary(binaryDir)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

func TestMain(m *testing.M) {
	if name := filepath.Base(os.Args[0]); name == "zpool" || name == "zfs" || name == "mount" || name == "umount" {
		os.Exit(fakeOpenZFS(name, os.Args[1:]))
	}
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// testMachine is a machine made for one test, driven in process.
type testMachine struct {
	*Machine
	t   *testing.T
	env map[string]string
}

// newMachine makes a machine for a test, and lets the test run in
// parallel with others (each machine has its own directory).
func newMachine(t *testing.T, spec Spec) *testMachine {
	t.Helper()
	return newMachineBin(t, spec, "")
}

// newMachineWithLinks makes a machine with its bin/ links, for tests
// that start processes on it (boot hooks).
func newMachineWithLinks(t *testing.T, spec Spec) *testMachine {
	t.Helper()
	return newMachineBin(t, spec, simhostBinary(t))
}

func newMachineBin(t *testing.T, spec Spec, binary string) *testMachine {
	t.Helper()
	t.Parallel()
	m, err := New(t.TempDir(), spec, binary)
	if err != nil {
		t.Fatalf("New(%+v): %v", spec, err)
	}
	return &testMachine{Machine: m, t: t, env: map[string]string{"LC_ALL": "C", TTYEnv: "stdin"}}
}

// result is what a command printed and its exit status.
type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// run runs a command on the machine with empty standard input.
func (tm *testMachine) run(argv ...string) result {
	return tm.runInput("", argv...)
}

func (tm *testMachine) runInput(stdin string, argv ...string) result {
	tm.t.Helper()
	var out, errb bytes.Buffer
	code := tm.Exec(context.Background(), argv, strings.NewReader(stdin), &out, &errb, tm.env)
	return result{out.String(), errb.String(), code}
}

// must runs a command that has to succeed and returns its output.
func (tm *testMachine) must(argv ...string) string {
	tm.t.Helper()
	r := tm.run(argv...)
	if r.code != 0 {
		tm.t.Fatalf("%s: %v", strings.Join(argv, " "), r)
	}
	return r.out
}

// model reads the machine's model.
func (tm *testMachine) model() *Model {
	tm.t.Helper()
	m, err := tm.Model()
	if err != nil {
		tm.t.Fatal(err)
	}
	return m
}

// boot boots the machine and returns the report.
func (tm *testMachine) boot(opts BootOptions) *BootReport {
	tm.t.Helper()
	rep, err := tm.Boot(opts)
	if err != nil {
		tm.t.Fatalf("boot: %v", err)
	}
	return rep
}

// mustBoot boots and fails the test unless the machine reached multi-user.
func (tm *testMachine) mustBoot(opts BootOptions) *BootReport {
	tm.t.Helper()
	rep := tm.boot(opts)
	if !rep.Booted {
		tm.t.Fatalf("machine did not boot: %s\n%s", rep.Reason, strings.Join(rep.Console, "\n"))
	}
	return rep
}

// fixture reads a testdata file and drops its leading comment lines.
func fixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// section returns the lines of text from the first line containing start
// up to (not including) the first following line containing end.
func section(text, start, end string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !strings.Contains(l, start) {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.Contains(lines[j], end) {
				return strings.Join(lines[i:j], "\n")
			}
		}
		return strings.Join(lines[i:], "\n")
	}
	return ""
}
