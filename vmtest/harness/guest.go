// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// The Linux guest's layout, the same in every launch: the initramfs holds
// the programs and the job, the virtio disk (ext4, mounted by init at
// GuestDisk) holds the simulated machine and zupgrade's state directory.
const (
	GuestDisk     = "/disk"
	GuestRoot     = GuestDisk + "/root"
	GuestZupgrade = "/vmtest/zupgrade"
	GuestJob      = "/vmtest/job.json"
	guestFIFO     = "/tmp/power-cut"
)

// Console markers of the guest agent, one a line. The host matches them
// at the start of a line; printing them with a prefix the kernel never
// uses keeps its messages from matching.
const (
	markReady  = "@@vmtest ready"
	markPause  = "@@vmtest pause"
	markResult = "@@vmtest result "
	markOutput = "@@| "
	markAlive  = "@@vmtest alive"
)

// GuestMain is the guest agent: it runs the job of this launch on the
// machine on the disk, reports on standard output (the serial console),
// and then reboots (the machine went down) or powers off; a power cut
// blocks until the host stops the VM. It returns only on an error.
func GuestMain(args []string) int {
	console := os.Stdout
	fmt.Fprintln(console, markReady)
	if err := guestRun(console); err != nil {
		fmt.Fprintf(console, "@@vmtest error %v\n", err)
		guestHalt(false)
		return 1
	}
	return 0
}

func guestRun(console io.Writer) error {
	data, err := os.ReadFile(GuestJob)
	if err != nil {
		return err
	}
	var job Job
	if err := json.Unmarshal(data, &job); err != nil {
		return fmt.Errorf("%s: %w", GuestJob, err)
	}
	if job.Kind == JobProbe {
		fmt.Fprintf(console, "%s{}\n", markResult)
		guestHalt(false)
		return nil
	}
	mc, err := NewMachine(GuestRoot, GuestZupgrade)
	if err != nil {
		return err
	}
	echo := &linePrefixer{w: console, prefix: markOutput}
	mc.Echo = echo
	mc.CommitWrites = true
	if err := makeFIFO(guestFIFO); err != nil {
		return err
	}
	pause := func() {
		// The host freezes the VM at this line and stops it: nothing
		// written after it reaches the disk.
		fmt.Fprintln(console, markPause)
		for {
			time.Sleep(time.Hour)
		}
	}
	// A boot's hooks print nothing until they end: say the guest is alive
	// meanwhile, so that the host's stall limit catches a guest that
	// froze, not a long resume.
	alive := time.NewTicker(20 * time.Second)
	defer alive.Stop()
	go func() {
		for range alive.C {
			fmt.Fprintln(console, markAlive)
		}
	}()
	res, err := mc.RunJob(context.Background(), job, guestFIFO, pause)
	if err != nil {
		return err
	}
	if job.Kind != JobApply {
		// Apply's output went out as it came (Echo).
		echo.Write([]byte(res.Output))
	}
	echo.flush()
	out := *res
	out.Output = "" // sent line by line above
	line, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(console, "%s%s\n", markResult, line)
	guestHalt(res.Down)
	return nil
}

// linePrefixer writes each line with a prefix, so that the host tells the
// guest agent's lines from the kernel's.
type linePrefixer struct {
	w      io.Writer
	prefix string
	rest   []byte
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.rest = append(p.rest, b...)
	for {
		i := bytes.IndexByte(p.rest, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.rest[:i]); err != nil {
			return 0, err
		}
		p.rest = p.rest[i+1:]
	}
}

// flush writes a last line that had no newline.
func (p *linePrefixer) flush() {
	if len(p.rest) > 0 {
		p.Write([]byte("\n"))
	}
}
