// SPDX-License-Identifier: BSD-2-Clause

package progress

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// Lines is an io.Writer for a command's output: it cuts what the command
// prints into Output events, one per line, and reports what it printed of a
// line it has not ended yet as a Partial event at once, so that progress
// dots and prompts are seen while the command waits. A "\r" that does not
// end a line starts it again, as on a terminal: the text after the last one
// is the line.
type Lines struct {
	// Emit receives the events; Now stamps them.
	Emit func(Event)
	Now  func() time.Time
	// Watch, when set, is called with every whole line and with every
	// partial line (a prompt has no newline); a true answer is remembered
	// as the line the command stalled on.
	Watch func(line string) bool

	mu      sync.Mutex
	buf     bytes.Buffer
	stalled string
}

// Write implements io.Writer; it never fails.
func (l *Lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := string(l.buf.Next(i + 1))
		l.line(Output, visible(strings.TrimSuffix(line, "\n")))
	}
	if l.buf.Len() > 0 {
		l.line(Partial, visible(l.buf.String()))
	}
	return len(p), nil
}

// Flush reports what is left of an unended line as a whole line: the
// command ended without its newline.
func (l *Lines) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.line(Output, visible(l.buf.String()))
		l.buf.Reset()
	}
}

// Stalled returns the first line Watch stopped on, or "".
func (l *Lines) Stalled() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stalled
}

func (l *Lines) line(k Kind, text string) {
	l.Emit(Event{Kind: k, Time: l.Now(), Text: text})
	if l.Watch != nil && l.stalled == "" && l.Watch(text) {
		l.stalled = text
	}
}

// visible is what a terminal would show of a line: the text after the last
// carriage return that is not the line's end (a terminal ends its lines
// with "\r\n").
func visible(line string) string {
	line = strings.TrimRight(line, "\r")
	if i := strings.LastIndexByte(line, '\r'); i >= 0 {
		return line[i+1:]
	}
	return line
}
