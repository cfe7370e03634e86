// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeVMEnv makes the test binary act as a hypervisor that prints its
// console, writes to standard error and exits with the status given
// (fakeVM), or hangs when asked.
const fakeVMEnv = "VMTEST_FAKE_VM"

// fakeVM prints a console of three lines and a complaint, then exits
// with args[0] as its status, or blocks forever for "hang".
func fakeVM(args []string) int {
	fmt.Println("SeaBIOS")
	fmt.Println(markReady)
	fmt.Println("@@| out")
	fmt.Fprintln(os.Stderr, "qemu: a warning")
	if len(args) > 0 && args[0] == "hang" {
		select {}
	}
	if len(args) > 0 && args[0] == "3" {
		return 3
	}
	return 0
}

// TestStartVM: the one launcher keeps the argv and every console line in
// the launch's directory, says what the hypervisor wrote to standard
// error when it fails, and kill ends a hypervisor that does not stop.
func TestStartVM(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeVMEnv, "1")
	dir := t.TempDir()
	for n, status := range []string{"0", "3"} {
		vm, err := startVM(dir, n+1, []string{exe, status})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for l := range consoleLines(vm.Console, vm.Log) {
			got = append(got, l)
		}
		werr := vm.wait()
		vm.kill()
		if strings.Join(got, "|") != "SeaBIOS|"+markReady+"|@@| out" {
			t.Errorf("launch %d: console lines %q", n+1, got)
		}
		if log, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("console-%d.log", n+1))); string(log) != "SeaBIOS\n"+markReady+"\n@@| out\n" {
			t.Errorf("launch %d: console log %q", n+1, log)
		}
		if argv, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("argv-%d.txt", n+1))); string(argv) != exe+"\n"+status+"\n" {
			t.Errorf("launch %d: argv file %q", n+1, argv)
		}
		switch {
		case status == "0" && werr != nil:
			t.Errorf("a clean exit: %v", werr)
		case status == "3" && (werr == nil || !strings.Contains(werr.Error(), "exit status 3") || !strings.Contains(werr.Error(), "qemu: a warning")):
			t.Errorf("a failed hypervisor: %v, want its status and standard error", werr)
		}
	}
	vm, err := startVM(dir, 3, []string{exe, "hang"})
	if err != nil {
		t.Fatal(err)
	}
	lines := consoleLines(vm.Console, vm.Log)
	for l := range lines {
		if l == markReady {
			break
		}
	}
	vm.kill()
	for range lines {
	}
	if err := vm.wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("a hung hypervisor after kill: %v, want it killed", err)
	}
	if _, err := startVM(dir, 4, nil); err == nil {
		t.Error("an empty command line started")
	}
}
