// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// daemonHook starts /root/child.sh with daemon(8), as zupgrade's hook
// starts the resumed run (the shell's operand is a path of this machine,
// so it names the machine's root).
const daemonHook = `#!/bin/sh
# PROVIDE: daemonhook
# REQUIRE: LOGIN

. /etc/rc.subr

name="daemonhook"
rcvar="daemonhook_enable"
start_cmd="daemonhook_start"
stop_cmd=":"

load_rc_config $name

daemonhook_start()
{
	echo "starting child"
	daemon -f -o /root/child.log /bin/sh "$SIMHOST_ROOT/root/child.sh" one two
}

run_rc_command "$1"
`

// childScript says its pid on the FIFO /root/ready, waits for a line on
// the FIFO /root/gate (the test decides when it goes on), then prints and
// exits with the line as its status.
const childScript = `echo $$ > "$SIMHOST_ROOT/root/ready"
read code < "$SIMHOST_ROOT/root/gate"
echo "child $1 $2 on $(uname -r)"
exit $code
`

// TestDaemonDetaches: daemon(8) detaches (usr.sbin/daemon/daemon.c calls
// daemon(3)), so the boot ends while the program it started still runs;
// the machine records the process, Wait returns once it ended with its
// exit status, and its output is in the -o file. A boot ends what still
// runs from the boot before.
func TestDaemonDetaches(t *testing.T) {
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Disks: 1})
	tm.writeMachineFile("/usr/local/etc/rc.d/daemonhook", daemonHook, 0o555)
	tm.writeMachineFile("/root/child.sh", childScript, 0o644)
	for _, f := range []string{"/root/ready", "/root/gate"} {
		if err := syscall.Mkfifo(tm.HostPath(f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tm.must("sysrc", "daemonhook_enable=YES")
	ctx := testContext(t)

	booted := make(chan *BootReport, 1)
	go func() {
		rep, _ := tm.Boot(BootOptions{})
		booted <- rep
	}()
	var rep *BootReport
	select {
	case rep = <-booted:
	case <-ctx.Done():
		t.Fatal("the boot waits for the program daemon started")
	}
	if rep == nil || len(rep.Hooks) != 1 || rep.Hooks[0].Exit != 0 || rep.Hooks[0].Output != "starting child\n" {
		t.Fatalf("boot report: %+v", rep)
	}
	procs := tm.model().Daemons
	if len(procs) != 1 || procs[0].State != DaemonRunning || strings.Join(procs[0].Argv, " ") != "/bin/sh "+tm.HostPath("/root/child.sh")+" one two" || procs[0].PID == 0 {
		t.Fatalf("processes after boot: %+v", procs)
	}

	readReady(ctx, t, tm.HostPath("/root/ready"))
	openGate(ctx, t, tm.HostPath("/root/gate"), "3\n")
	ended, err := tm.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ended) != 1 || ended[0].State != DaemonExited || ended[0].Exit != 3 {
		t.Fatalf("Wait: %+v", ended)
	}
	if got := tm.must("cat", "/root/child.log"); got != "child one two on 14.2-RELEASE\n" {
		t.Errorf("child.log: %q", got)
	}
	if again, err := tm.Wait(ctx); err != nil || len(again) != 0 {
		t.Errorf("Wait with nothing running: %+v, %v", again, err)
	}

	// Boot again: the new child blocks on the gate; the boot after that
	// kills it, as a reboot kills every process.
	tm.reboot(BootOptions{})
	if p := tm.model().Daemons; len(p) != 2 || p[1].State != DaemonRunning {
		t.Fatalf("processes after the second boot: %+v", p)
	}
	child := readReady(ctx, t, tm.HostPath("/root/ready"))
	tm.mustBoot(BootOptions{NoHooks: true})
	if ended, err := tm.Wait(ctx); err != nil || len(ended) != 1 || ended[0].ID != 2 || ended[0].State != DaemonKilled {
		t.Errorf("a process of the last boot after a reset: %+v, %v", ended, err)
	}
	// The program went with its supervisor: its pid ends (pidfd).
	if fd, err := unix.PidfdOpen(child, 0); err == nil {
		gone := make(chan error, 1)
		go func() {
			_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
			unix.Close(fd)
			gone <- err
		}()
		select {
		case err := <-gone:
			if err != nil {
				t.Errorf("poll on the killed program's pidfd: %v", err)
			}
		case <-ctx.Done():
			t.Error("the program of the last boot still runs after the reset")
		}
	}
}

// readReady reads the pid the program writes to the FIFO path.
func readReady(ctx context.Context, t *testing.T, path string) int {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		data, _ := os.ReadFile(path)
		got <- strings.TrimSpace(string(data))
	}()
	select {
	case s := <-got:
		pid, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("the program said %q on its ready FIFO", s)
		}
		return pid
	case <-ctx.Done():
		t.Fatal("the program daemon started never said it is ready")
	}
	return 0
}

// openGate writes line to the FIFO path once a reader opened it.
func openGate(ctx context.Context, t *testing.T, path, line string) {
	t.Helper()
	opened := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(line)
			f.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the program daemon started never opened its gate")
	}
}
