// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"sync"

	"github.com/charmbracelet/log"
)

// interruption is what Main knows of the request to stop (Env.Interrupt).
// A read-only command is stopped at once (its context ends); apply and
// rollback hold the request (hold) and stop at their next safe point.
type interruption struct {
	mu    sync.Mutex
	asked bool
	// done is closed when zupgrade is asked to stop.
	done    chan struct{}
	holding bool
	cancel  context.CancelFunc
	logger  *log.Logger
}

// watch waits for the request on ch until ctx ends.
func (i *interruption) watch(ctx context.Context, ch <-chan struct{}) {
	if ch == nil {
		return
	}
	go func() {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
		i.mu.Lock()
		defer i.mu.Unlock()
		i.asked = true
		close(i.done)
		if !i.holding {
			i.cancel()
			return
		}
		i.logger.Warn("interrupted: stopping at the next safe point, once the running command has ended (a second signal ends zupgrade at once)")
	}()
}

// hold makes a request to stop wait until the command asks Stopped at a
// safe point, instead of ending the command's context.
func (i *interruption) hold() {
	if i == nil {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.holding = true
}

// Stopped reports whether zupgrade was asked to stop.
func (i *interruption) Stopped() bool {
	if i == nil {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.asked
}

// Done returns a channel closed when zupgrade is asked to stop (never, for
// a nil interruption).
func (i *interruption) Done() <-chan struct{} {
	if i == nil {
		return nil
	}
	return i.done
}
