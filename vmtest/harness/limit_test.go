// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand, with timers the test fires.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	armed   []time.Duration
	fire    func()
	stopped chan struct{} // gets a value each time a timer is stopped
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) After(d time.Duration, f func()) stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = append(c.armed, d)
	c.fire = f
	return fakeTimer{c}
}

func (c *fakeClock) timers() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.armed...)
}

type fakeTimer struct{ c *fakeClock }

func (t fakeTimer) Stop() bool {
	t.c.stopped <- struct{}{}
	return true
}

// TestScenarioLimitCountsOwnTime: under -parallel a guest scenario's time
// limit runs from when its own guest starts: the 20 minutes its first
// launch waits for another guest's boot, and the 30 its second launch
// waits, are not counted; the 4 minutes it ran are, and the limit ends
// the scenario once the rest is used up.
func TestScenarioLimitCountsOwnTime(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0), stopped: make(chan struct{}, 1)}
	const limit = 10 * time.Minute
	ctx, cancel := withScenarioLimitClock(context.Background(), limit, clock.Now, clock.After)
	defer cancel()
	g := newBootGate()
	type turn struct {
		b   *boot
		err error
	}
	enter := func() chan turn {
		entered := make(chan turn, 1)
		go func() {
			b, err := g.enter(ctx)
			entered <- turn{b, err}
		}()
		return entered
	}

	other, err := g.enter(context.Background()) // another scenario's guest boots
	if err != nil {
		t.Fatal(err)
	}
	if got := clock.timers(); len(got) != 0 {
		t.Fatalf("the limit runs before the scenario's guest started: timers %v", got)
	}
	first := enter()
	clock.advance(20 * time.Minute)
	other.leave()
	launch := <-first
	if launch.err != nil {
		t.Fatalf("the first launch: %v", launch.err)
	}
	if got := clock.timers(); len(got) != 1 || got[0] != limit {
		t.Fatalf("when the guest started, timers %v, want [%v]", got, limit)
	}

	clock.advance(4 * time.Minute)           // the first launch runs, then reboots
	launch.b.leave()                         // its agent came up
	other, _ = g.enter(context.Background()) // another guest boots meanwhile
	second := enter()
	<-clock.stopped // the second launch waits at the gate: the clock stops
	clock.advance(30 * time.Minute)
	other.leave()
	if launch = <-second; launch.err != nil {
		t.Fatalf("the second launch: %v", launch.err)
	}
	launch.b.leave()
	if got := clock.timers(); len(got) != 2 || got[1] != 6*time.Minute {
		t.Fatalf("after the second wait, timers %v, want the 6m left", got)
	}
	if ctx.Err() != nil {
		t.Fatalf("the scenario ended while it waited: %v", context.Cause(ctx))
	}
	clock.fire()
	<-ctx.Done()
	if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), "time limit, 10m0s") {
		t.Errorf("the limit's end says %v", cause)
	}
}
