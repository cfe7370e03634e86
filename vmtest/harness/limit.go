// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// scenarioLimit bounds the time a guest scenario runs: its clock starts
// when the scenario's first guest starts (passes the boot gate), and
// stops while a later launch waits at the gate for another guest's boot
// (-parallel), so that waiting for other scenarios never uses up its time.
type scenarioLimit struct {
	mu     sync.Mutex
	left   time.Duration
	since  time.Time // when the clock last started; zero while stopped
	timer  stopper
	expire func()

	now   func() time.Time
	after func(time.Duration, func()) stopper
}

// stopper is a timer that can be stopped (*time.Timer).
type stopper interface{ Stop() bool }

type limitKey struct{}

// withScenarioLimit returns a context that ends once the scenario ran for
// limit, counted as scenarioLimit says; context.Cause then says so.
func withScenarioLimit(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	return withScenarioLimitClock(ctx, limit, time.Now, func(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) })
}

// withScenarioLimitClock is withScenarioLimit with the clock and timers
// given.
func withScenarioLimitClock(ctx context.Context, limit time.Duration, now func() time.Time, after func(time.Duration, func()) stopper) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	l := &scenarioLimit{left: limit, now: now, after: after}
	l.expire = func() {
		cancel(fmt.Errorf("the scenario ran for its time limit, %v (waits for other guests' boots not counted)", limit))
	}
	return context.WithValue(ctx, limitKey{}, l), func() {
		l.stop()
		cancel(context.Canceled)
	}
}

// limitOf returns the scenario's limit in ctx, nil when there is none.
func limitOf(ctx context.Context) *scenarioLimit {
	l, _ := ctx.Value(limitKey{}).(*scenarioLimit)
	return l
}

// run starts the clock (again). A nil limit does nothing, here and below.
func (l *scenarioLimit) run() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.since.IsZero() {
		return
	}
	l.since = l.now()
	l.timer = l.after(l.left, l.expire)
}

// stop stops the clock, keeping the time left.
func (l *scenarioLimit) stop() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.since.IsZero() {
		return
	}
	l.timer.Stop()
	l.left = max(l.left-l.now().Sub(l.since), 0)
	l.since = time.Time{}
}
