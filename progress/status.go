// SPDX-License-Identifier: BSD-2-Clause

package progress

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/zupgrade/zupgrade/host"
)

// RedrawEvery is the shortest time between two redraws of the status line
// for progress alone; whole lines, steps and heartbeats redraw it at once.
const RedrawEvery = 100 * time.Millisecond

// Status renders events for a terminal: the same lines as Plain, and below
// them a status line that says which step of how many runs, which command,
// for how long, and what the command printed last of an unended line
// (progress dots, a "\r" progress bar). The line is redrawn on every
// heartbeat (a Pulse sends one a second) and, at most every RedrawEvery, on
// progress.
type Status struct {
	mu    sync.Mutex
	out   io.Writer
	width int

	n, of     int
	title     string
	line      string
	stepStart time.Time
	cmdStart  time.Time
	partial   string
	drawn     bool
	lastDraw  time.Time
	running   bool
}

// NewStatus returns a Status renderer for a terminal of width columns.
func NewStatus(out io.Writer, width int) *Status {
	if width < 20 {
		width = 80
	}
	return &Status{out: out, width: width}
}

// Emit implements Sink.
func (s *Status) Emit(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Kind {
	case StepStarted:
		s.n, s.of, s.title, s.stepStart = e.N, e.Of, e.Title, e.Time
	case CommandStarted:
		s.line, s.cmdStart, s.partial, s.running = host.QuoteArgs(e.Argv), e.Time, "", true
	case CommandEnded:
		s.running, s.partial = false, ""
	case Output:
		s.partial = ""
		s.above(outputPrefix + e.Text)
		s.draw(e.Time)
		return
	case Partial:
		s.partial = e.Text
		// Shown at the next heartbeat if not now.
		if e.Time.Sub(s.lastDraw) >= RedrawEvery {
			s.draw(e.Time)
		}
		return
	case Heartbeat:
		s.draw(e.Time)
		return
	}
	if text := describe(e); text != "" {
		s.above(text)
	}
	switch e.Kind {
	case StepDone, StepSkipped, StepFailed, Checkpoint, Interrupted, Error:
		// Nothing runs until the next step starts.
		s.clear()
	default:
		s.draw(e.Time)
	}
}

// above prints a line above the status line.
func (s *Status) above(text string) {
	s.clear()
	fmt.Fprintln(s.out, text)
}

// clear erases the status line.
func (s *Status) clear() {
	if s.drawn {
		fmt.Fprint(s.out, "\r\x1b[K")
		s.drawn = false
	}
}

// draw writes the status line for the time now.
func (s *Status) draw(now time.Time) {
	if s.of == 0 {
		return
	}
	head := fmt.Sprintf("[%d/%d] %s %s", s.n, s.of, s.title, now.Sub(s.stepStart).Round(time.Second))
	tail := ""
	if s.running {
		head += fmt.Sprintf(" | %s %s", s.line, now.Sub(s.cmdStart).Round(time.Second))
		if s.partial != "" {
			tail = " | " + s.partial
		}
	}
	fmt.Fprint(s.out, "\r\x1b[K"+fit(head, tail, s.width-1))
	s.drawn, s.lastDraw = true, now
}

// fit joins head and tail in width characters, control characters made
// spaces. When they do not fit, tail keeps its end (where progress grows)
// in up to half the width, and head its start.
func fit(head, tail string, width int) string {
	h, t := []rune(printable(head)), []rune(printable(tail))
	if len(h)+len(t) <= width {
		return string(h) + string(t)
	}
	if len(t) > width/2 {
		t = append([]rune("…"), t[len(t)-width/2+1:]...)
	}
	if room := width - len(t); len(h) > room {
		h = append(h[:room-1], []rune("…")...)
	}
	return string(h) + string(t)
}

// printable replaces control characters, which would move the cursor, with
// spaces.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// End erases the status line: the run is over.
func (s *Status) End() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
}

// Above returns a Writer to w (standard error, on the same terminal) whose
// text goes above the status line, as the child output does: zupgrade's
// log lines do not mix with the status line.
func (s *Status) Above(w io.Writer) io.Writer { return aboveWriter{s: s, w: w} }

type aboveWriter struct {
	s *Status
	w io.Writer
}

func (a aboveWriter) Write(p []byte) (int, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	drawn := a.s.drawn
	a.s.clear()
	n, err := a.w.Write(p)
	if drawn && bytes.HasSuffix(p, []byte("\n")) {
		a.s.draw(a.s.lastDraw)
	}
	return n, err
}
