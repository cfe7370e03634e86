// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"sync"
)

// bootGate lets one guest boot at a time: a launch enters before it
// starts its VM and leaves when the guest's agent is up (or the launch
// ends), so that guests run in parallel but start staggered, on an event
// rather than after a delay. A nil gate lets everyone through.
type bootGate struct{ slot chan struct{} }

func newBootGate() *bootGate { return &bootGate{slot: make(chan struct{}, 1)} }

// boot is one launch's turn at the gate.
type boot struct {
	once sync.Once
	gate *bootGate
}

// enter waits for the gate (or the context's end). The scenario's time
// limit in ctx (scenarioLimit) does not run while it waits, and runs from
// the moment it enters.
func (g *bootGate) enter(ctx context.Context) (*boot, error) {
	l := limitOf(ctx)
	if g == nil {
		l.run()
		return &boot{}, nil
	}
	l.stop()
	select {
	case g.slot <- struct{}{}:
		l.run()
		return &boot{gate: g}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// leave lets the next guest boot; a second call does nothing.
func (b *boot) leave() {
	b.once.Do(func() {
		if b.gate != nil {
			<-b.gate.slot
		}
	})
}
