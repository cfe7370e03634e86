// SPDX-License-Identifier: BSD-2-Clause

package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/zupgrade/zupgrade/host"
)

// HeartbeatEvery is how often the plain and JSON renderers say that a
// command still runs.
const HeartbeatEvery = 30 * time.Second

// Indents of the plain and status renderers' lines.
const (
	indent       = "      "
	outputPrefix = indent + "| "
)

// Plain renders events as lines of text, for output that is not a
// terminal (a pipe, a file, a log): one line per step, per command and per
// line of output, progress printed as it comes when it only adds to its
// line, and a heartbeat line every HeartbeatEvery while a command runs.
type Plain struct {
	mu  sync.Mutex
	out io.Writer
	// shown is what is printed of the command's unended line; open says
	// that the cursor is still on it.
	shown string
	open  bool
	// partial is the unended line as the command last left it.
	partial  string
	lastBeat time.Time
	line     string
}

// NewPlain returns a Plain renderer writing to out.
func NewPlain(out io.Writer) *Plain { return &Plain{out: out} }

// Emit implements Sink.
func (p *Plain) Emit(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case Output:
		p.output(e.Text)
	case Partial:
		p.partial = e.Text
		if e.Text == "" || !strings.HasPrefix(e.Text, p.shown) {
			// Rewritten ("\r"): the heartbeat shows its last state.
			return
		}
		if !p.open {
			p.endLine()
			fmt.Fprint(p.out, outputPrefix)
			p.shown, p.open = "", true
		}
		fmt.Fprint(p.out, e.Text[len(p.shown):])
		p.shown = e.Text
	case Heartbeat:
		if e.Time.Sub(p.lastBeat) < HeartbeatEvery {
			return
		}
		p.lastBeat = e.Time
		p.endLine()
		fmt.Fprintf(p.out, "%s... still running after %s: %s", indent, e.Elapsed.Round(time.Second), p.line)
		if p.partial != "" {
			fmt.Fprintf(p.out, " (%s)", p.partial)
		}
		fmt.Fprintln(p.out)
	default:
		p.endLine()
		p.shown, p.partial = "", ""
		if e.Kind == CommandStarted {
			p.line, p.lastBeat = host.QuoteArgs(e.Argv), e.Time
		}
		if text := describe(e); text != "" {
			fmt.Fprintln(p.out, text)
		}
	}
}

// output prints a whole line of the command's output, finishing the line
// its progress began when the line goes on from it.
func (p *Plain) output(text string) {
	switch {
	case p.open && strings.HasPrefix(text, p.shown):
		fmt.Fprintln(p.out, text[len(p.shown):])
		p.open = false
	default:
		p.endLine()
		fmt.Fprintln(p.out, outputPrefix+text)
	}
	p.shown, p.partial = "", ""
}

// endLine ends the line progress left open.
func (p *Plain) endLine() {
	if p.open {
		fmt.Fprintln(p.out)
		p.open = false
	}
}

// describe is the line of text the plain and status renderers print for an
// event other than output, progress and heartbeats; "" for none.
func describe(e Event) string {
	switch e.Kind {
	case StepStarted:
		return fmt.Sprintf("[%d/%d] %s (%s)", e.N, e.Of, e.Title, e.Step)
	case StepSkipped:
		return fmt.Sprintf("%sdone already (%s)", indent, e.Text)
	case StepDone:
		return fmt.Sprintf("%sdone in %s", indent, e.Elapsed.Round(time.Millisecond))
	case CommandStarted:
		return indent + "$ " + host.QuoteArgs(e.Argv)
	case Note:
		return indent + e.Text
	case Checkpoint:
		return indent + "checkpoint: " + e.Text
	}
	// Failures and errors: zupgrade's log reports them on standard error.
	return ""
}
