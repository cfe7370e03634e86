// SPDX-License-Identifier: BSD-2-Clause

package progress

import (
	"sync"
	"time"
)

// Pulse passes events on to a Sink and, at every tick while a command runs,
// adds a Heartbeat event for it: the status line redraws its clock on them,
// and the plain and JSON renderers say every so often that the command is
// still at work. The ticks come from a channel (a time.Ticker's in
// production, one the test sends on in tests).
type Pulse struct {
	next Sink
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	step    string
	argv    []string
	started time.Time
	running bool
}

// NewPulse starts a Pulse that sends events to next and heartbeats on the
// ticks of ticks. Stop ends it.
func NewPulse(next Sink, ticks <-chan time.Time) *Pulse {
	p := &Pulse{next: next, stop: make(chan struct{}), done: make(chan struct{})}
	go p.beat(ticks)
	return p
}

// Emit implements Sink.
func (p *Pulse) Emit(e Event) {
	p.mu.Lock()
	switch e.Kind {
	case CommandStarted:
		p.step, p.argv, p.started, p.running = e.Step, e.Argv, e.Time, true
	case CommandEnded:
		p.running = false
	}
	// Under the lock, so that no heartbeat of a command comes after its end.
	p.next.Emit(e)
	p.mu.Unlock()
}

// Stop ends the heartbeats; events sent after it still pass on.
func (p *Pulse) Stop() {
	close(p.stop)
	<-p.done
}

func (p *Pulse) beat(ticks <-chan time.Time) {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case t := <-ticks:
			p.mu.Lock()
			// A tick taken before the command started but handled
			// after it is no heartbeat of that command.
			if p.running && !t.Before(p.started) {
				p.next.Emit(Event{Kind: Heartbeat, Time: t, Step: p.step, Argv: p.argv, Elapsed: t.Sub(p.started)})
			}
			p.mu.Unlock()
		}
	}
}
