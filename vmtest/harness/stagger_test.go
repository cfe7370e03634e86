// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"testing"
)

// TestBootGateStaggers: a second guest may start only once the first one
// left the gate (its agent came up), and leaving twice frees one turn.
func TestBootGateStaggers(t *testing.T) {
	g := newBootGate()
	first, err := g.enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.enter(ctx); err == nil {
		t.Fatal("a second guest entered while the first was booting")
	}
	entered := make(chan *boot)
	go func() {
		b, err := g.enter(context.Background())
		if err != nil {
			t.Error(err)
		}
		entered <- b
	}()
	first.leave()
	first.leave()
	second := <-entered
	if _, err := g.enter(ctx); err == nil {
		t.Fatal("a third guest entered while the second was booting: the first left twice")
	}
	second.leave()
	if _, err := (*bootGate)(nil).enter(ctx); err != nil {
		t.Errorf("a nil gate: %v", err)
	}
}
