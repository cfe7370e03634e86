// SPDX-License-Identifier: BSD-2-Clause

package progress

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// JSONVersion is the version of the JSON Lines document; within a version
// fields are only added.
const JSONVersion = 1

// PartialEvery is the shortest time between two partial events that
// JSONLines writes for one line; the last state of the line is written at
// the next heartbeat if it is still unended.
const PartialEvery = time.Second

// JSONLines renders events as JSON Lines, one object per event, for
// scripts (apply --json): docs/apply-json.md describes the document.
// Heartbeats are written every HeartbeatEvery, partial lines at most every
// PartialEvery.
type JSONLines struct {
	mu  sync.Mutex
	enc *json.Encoder

	lastBeat    time.Time
	lastPartial time.Time
	pending     *Event
}

// NewJSONLines returns a JSONLines renderer writing to out.
func NewJSONLines(out io.Writer) *JSONLines {
	return &JSONLines{enc: json.NewEncoder(out)}
}

// jsonEvent is an event as JSONLines writes it.
type jsonEvent struct {
	Version   int       `json:"version"`
	Type      Kind      `json:"type"`
	Time      time.Time `json:"time"`
	Step      string    `json:"step,omitempty"`
	Title     string    `json:"title,omitempty"`
	N         int       `json:"n,omitempty"`
	Of        int       `json:"of,omitempty"`
	Argv      []string  `json:"argv,omitempty"`
	Env       []string  `json:"env,omitempty"`
	Exit      *int      `json:"exit,omitempty"`
	ElapsedMS *int64    `json:"elapsed_ms,omitempty"`
	Text      string    `json:"text,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// Emit implements Sink.
func (j *JSONLines) Emit(e Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch e.Kind {
	case Partial:
		if e.Time.Sub(j.lastPartial) < PartialEvery {
			j.pending = &e
			return
		}
		j.lastPartial = e.Time
	case Heartbeat:
		if j.pending != nil {
			j.lastPartial = e.Time
			j.write(*j.pending)
			j.pending = nil
		}
		if e.Time.Sub(j.lastBeat) < HeartbeatEvery {
			return
		}
		j.lastBeat = e.Time
	case CommandStarted:
		j.lastBeat = e.Time
		fallthrough
	default:
		// A later line supersedes the progress not yet written.
		j.pending = nil
	}
	j.write(e)
}

func (j *JSONLines) write(e Event) {
	out := jsonEvent{Version: JSONVersion, Type: e.Kind, Time: e.Time, Step: e.Step, Title: e.Title, N: e.N, Of: e.Of, Argv: e.Argv, Env: e.Env, Text: e.Text}
	switch e.Kind {
	case CommandEnded:
		out.Exit = &e.Exit
	case Error:
		// As the error of any command given --json: "error" and "exit".
		out.Error, out.Text, out.Exit = e.Text, "", &e.ExitCode
	}
	switch e.Kind {
	case CommandEnded, StepDone, Heartbeat:
		ms := e.Elapsed.Milliseconds()
		out.ElapsedMS = &ms
	}
	// An event is always representable: the encoder cannot fail on it,
	// and a write error (the reader went away) must not stop the run.
	_ = j.enc.Encode(out)
}
