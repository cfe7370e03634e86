// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/txtar"
)

// CaptureHeader is the first line of every capture; the number is the
// format version (docs/capture.md).
const CaptureHeader = "zupgrade host capture, format 1"

// Recorder is a Runner that passes commands to Next and keeps every command
// line with its outputs and exit status, to be written as a capture.
type Recorder struct {
	Next Runner

	mu      sync.Mutex
	entries []captured
}

type captured struct {
	line string
	res  Result
}

// Run implements Runner.
func (r *Recorder) Run(ctx context.Context, cmd Command) (Result, error) {
	res, err := r.Next.Run(ctx, cmd)
	if err != nil {
		return res, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	line := cmd.Line()
	for i := range r.entries {
		if r.entries[i].line == line {
			r.entries[i].res = res
			return res, nil
		}
	}
	r.entries = append(r.entries, captured{line: line, res: res})
	return res, nil
}

// Capture returns the recorded commands as a capture archive. comment lines
// (e.g. "host: web1") follow the header and the capture time.
func (r *Recorder) Capture(now time.Time, comment ...string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := &txtar.Archive{}
	head := []string{CaptureHeader, "captured: " + now.UTC().Format(time.RFC3339)}
	a.Comment = []byte(strings.Join(append(head, comment...), "\n") + "\n")
	for _, e := range r.entries {
		name := e.line
		if e.res.ExitCode != 0 {
			name += fmt.Sprintf(" [exit %d]", e.res.ExitCode)
		}
		data, b64 := encodeMember(e.res.Stdout)
		if b64 {
			name += " [base64]"
		}
		a.Files = append(a.Files, txtar.File{Name: name, Data: data})
		if len(e.res.Stderr) > 0 {
			data, b64 := encodeMember(e.res.Stderr)
			name := e.line + " [stderr]"
			if b64 {
				name += " [base64]"
			}
			a.Files = append(a.Files, txtar.File{Name: name, Data: data})
		}
	}
	return txtar.Format(a)
}

// encodeMember returns data as it can be stored in a txtar member, and
// whether it had to be base64-encoded to survive the round trip.
func encodeMember(data []byte) ([]byte, bool) {
	text := utf8.Valid(data) &&
		(len(data) == 0 || data[len(data)-1] == '\n') &&
		!bytes.HasPrefix(data, []byte("-- ")) &&
		!bytes.Contains(data, []byte("\n-- "))
	if text {
		return data, false
	}
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n")
	return []byte(b.String()), true
}

// namelessMarker returns the number of the first line that is "-- --" (a
// marker whose name is empty), or 0. go-internal's txtar parser slices out
// of bounds on such a line instead of reading it as text.
func namelessMarker(data []byte) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.TrimSuffix(l, "\r") == "-- --" {
			return i + 1
		}
	}
	return 0
}

// Replay is a Runner that answers from a capture and runs nothing.
type Replay struct {
	results map[string]Result
	// Comment holds the capture's comment lines after the header.
	Comment []string
}

var memberSuffix = regexp.MustCompile(`^(.*?)((?: \[(?:exit -?\d+|stderr|base64)\])*)$`)

// ParseCapture reads a capture archive. name is used in error messages.
func ParseCapture(name string, data []byte) (*Replay, error) {
	if n := namelessMarker(data); n > 0 {
		return nil, fmt.Errorf("%s:%d: %q is a member marker without a command line: the capture is damaged or was edited; capture the host again (zupgrade inspect --capture FILE)", name, n, "-- --")
	}
	a := txtar.Parse(data)
	comment := strings.Split(strings.TrimRight(string(a.Comment), "\n"), "\n")
	if len(comment) == 0 || strings.TrimSpace(comment[0]) != CaptureHeader {
		first := ""
		if len(comment) > 0 {
			first = comment[0]
		}
		if strings.HasPrefix(first, "zupgrade host capture, format ") {
			return nil, fmt.Errorf("%s: %q: this zupgrade reads %q; use a zupgrade of the version that made the capture, or capture again", name, first, CaptureHeader)
		}
		return nil, fmt.Errorf("%s: not a zupgrade host capture (the first line must be %q)", name, CaptureHeader)
	}
	rp := &Replay{results: map[string]Result{}, Comment: comment[1:]}
	for _, f := range a.Files {
		m := memberSuffix.FindStringSubmatch(f.Name)
		line, tags := m[1], m[2]
		res := rp.results[line]
		data := f.Data
		if strings.Contains(tags, "[base64]") {
			dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(data), "\n", ""))
			if err != nil {
				return nil, fmt.Errorf("%s: member %q: bad base64: %v", name, f.Name, err)
			}
			data = dec
		}
		if strings.Contains(tags, "[stderr]") {
			res.Stderr = data
		} else {
			res.Stdout = data
			if i := strings.Index(tags, "[exit "); i >= 0 {
				n, err := strconv.Atoi(strings.TrimSuffix(strings.Fields(tags[i+6:])[0], "]"))
				if err != nil {
					return nil, fmt.Errorf("%s: member %q: bad exit status", name, f.Name)
				}
				res.ExitCode = n
			}
		}
		rp.results[line] = res
	}
	return rp, nil
}

// Run implements Runner: it returns the recorded result of the same command
// line, or an error naming the command when the capture lacks it.
func (r *Replay) Run(_ context.Context, cmd Command) (Result, error) {
	res, ok := r.results[cmd.Line()]
	if !ok {
		return Result{}, fmt.Errorf("the capture has no output for %q: capture the host again with this version of zupgrade (zupgrade inspect --capture FILE)", cmd.Line())
	}
	return res, nil
}

// Lines returns the command lines the capture holds.
func (r *Replay) Lines() []string {
	out := make([]string, 0, len(r.results))
	for l := range r.results {
		out = append(out, l)
	}
	return out
}
