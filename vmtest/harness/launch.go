// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// vmProcess is one hypervisor process (QEMU or bhyve) as every back-end
// starts it: its argv kept in the launch's directory, its serial console
// (the process's standard output) copied line by line into the launch's
// console log, its standard error kept for errors, in its own process
// group, and killed with the test process even when that dies by SIGKILL.
type vmProcess struct {
	cmd    *exec.Cmd
	log    *os.File
	stderr bytes.Buffer
	// Console is the guest's serial console; read it with consoleLines
	// (or ConsoleWatch) and Log, so that the console log holds every line.
	Console io.Reader
	// Log is the launch's console log (console-N.log), LogPath its path.
	Log     io.Writer
	LogPath string
	// Started is when the process was started.
	Started time.Time
}

// startVM writes argv to dir/argv-N.txt, creates dir/console-N.log and
// starts the hypervisor.
func startVM(dir string, n int, argv []string) (*vmProcess, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("launch %d: no hypervisor command line", n)
	}
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("argv-%d.txt", n)), []byte(strings.Join(argv, "\n")+"\n"), 0o644)
	p := &vmProcess{LogPath: filepath.Join(dir, fmt.Sprintf("console-%d.log", n))}
	logf, err := os.Create(p.LogPath)
	if err != nil {
		return nil, err
	}
	p.log, p.Log = logf, logf
	p.cmd = exec.Command(argv[0], argv[1:]...)
	// Its own process group, killed with the test process even by SIGKILL.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	p.Console = stdout
	p.cmd.Stderr = &p.stderr
	p.Started = time.Now()
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("launch %d: %s: %w", n, argv[0], err)
	}
	return p, nil
}

// kill ends the process and its whole group (a no-op once it exited) and
// closes the console log; every launch defers it.
func (p *vmProcess) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	p.log.Close()
}

// wait waits for the process to exit; its error carries what the
// hypervisor wrote to standard error.
func (p *vmProcess) wait() error {
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(p.cmd.Path), err, p.stderr.String())
	}
	return nil
}

// tail is the console log's last n lines, for errors.
func (p *vmProcess) tail(n int) string { return lastLines(p.LogPath, n) }

// consoleLines reads a serial console line by line: each line is written
// to log, then sent; the channel is closed at the console's end.
func consoleLines(console io.Reader, log io.Writer) <-chan string {
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(console)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		for sc.Scan() {
			fmt.Fprintln(log, sc.Text())
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}

// freezeAndQuit stops the guest's CPUs through QMP, then ends QEMU: the
// disks hold what the guest had written when it paused, nothing after.
func freezeAndQuit(sock string) error {
	q, err := dialQMP(sock)
	if err != nil {
		return err
	}
	defer q.close()
	if err := q.execute("stop"); err != nil {
		return err
	}
	return q.execute("quit")
}
