// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestHangWithPartialOutput: a hang fault with partial set prints its
// message on standard output without a newline (freebsd-update's
// fetch_progress) and then waits until it is ended.
func TestHangWithPartialOutput(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Faults: []*Fault{{Command: "freebsd-update", Args: "fetch", Action: FaultHang, Partial: true, Message: "....10....20"}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- tm.Exec(ctx, []string{"freebsd-update", "fetch"}, nil, pw, &errb, tm.env)
		pw.Close()
	}()
	got := make([]byte, len("....10....20"))
	if _, err := io.ReadFull(pr, got); err != nil || string(got) != "....10....20" {
		t.Fatalf("standard output %q (%v), want the progress", got, err)
	}
	select {
	case c := <-code:
		t.Fatalf("the command ended (exit %d) instead of waiting", c)
	default:
	}
	cancel()
	rest, _ := io.ReadAll(pr)
	if c := <-code; c != 143 || len(rest) != 0 || errb.String() != "" {
		t.Errorf("ended: exit %d, then standard output %q, standard error %q; want 143 and nothing more", c, rest, errb.String())
	}
}
