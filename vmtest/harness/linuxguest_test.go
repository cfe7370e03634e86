// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// guestScenarios are the scenarios go test runs in the Linux guest: a
// few, for CI's time; zupgrade-vmtest runs any of them there.
var guestScenarios = []string{"bios-mirror-major", "cut-mid-install-2", "cut-after-journal-write", "patch-update"}

// guestBootGate is the boot gate of every guest kit the package's tests
// make: the tests that run side by side (t.Parallel) boot one guest at a
// time among them all, not one per kit.
var guestBootGate = newBootGate()

// needTools skips the test when the machine lacks the tools missing
// names (what needs them, then the list), and fails it in CI (CIEnv set),
// where .ci/run installs them.
func needTools(t *testing.T, what string, missing []string) {
	t.Helper()
	if len(missing) == 0 {
		return
	}
	msg := what + strings.Join(missing, ", ")
	if os.Getenv(CIEnv) != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (a failure in CI, where " + CIEnv + " is set)")
}

// TestScenariosLinuxGuest runs the guestScenarios in the Linux guest under
// QEMU (back-end 2), as many at once as -parallel lets run (the kit's
// boot gate lets one guest boot at a time: two TCG guests booting at once
// on two cores can starve each other), and also in process: both must
// pass and observe the same end state. It runs beside the package's
// other guest tests (t.Parallel).
func TestScenariosLinuxGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux guests under QEMU; not in -short")
	}
	t.Parallel()
	needTools(t, "the Linux guest needs: ", MissingGuestTools())
	b := binaries(t)
	kitDir := t.TempDir()
	kit, err := NewGuestKit(kitDir, b)
	if err != nil {
		t.Fatal(err)
	}
	kit.boot = guestBootGate
	accel, err := kit.ChooseAccel(context.Background(), kitDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("accelerator: " + accel)
	fmt.Fprintln(os.Stderr, "vmtest: accelerator: "+accel)
	for _, sc := range loadScenarios(t) {
		if !slices.Contains(guestScenarios, sc.Name) {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			dir, err := os.MkdirTemp("", "vmtest-"+sc.Name+"-")
			if err != nil {
				t.Fatal(err)
			}
			keep := os.Getenv("VMTEST_KEEP") == "always"
			defer func() {
				if t.Failed() || keep {
					t.Logf("artefacts kept in %s (console-N.log, argv-N.txt, rerun-N.sh, disk.img)", dir)
					return
				}
				os.RemoveAll(dir)
			}()
			// The same scenario in process, on the other core meanwhile:
			// the back-ends must agree.
			type refResult struct {
				res *Result
				err error
			}
			refc := make(chan refResult, 1)
			refDir := t.TempDir()
			go func() {
				ip, err := NewInProcess(refDir, sc, b)
				if err != nil {
					refc <- refResult{nil, err}
					return
				}
				res, err := Execute(context.Background(), sc, ip)
				refc <- refResult{res, err}
			}()
			defer func() { <-refc }() // never leave it running into TempDir's removal
			g, err := NewLinuxGuest(kit, dir, sc, b)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			start := time.Now()
			// The limit runs from when the scenario's guest starts, not
			// while it waits for another scenario's boot (t.Parallel).
			ctx, cancel := withScenarioLimit(context.Background(), kit.ScenarioLimit)
			defer cancel()
			res, err := Execute(ctx, sc, g)
			if err != nil {
				if ctx.Err() != nil {
					t.Fatalf("%v: %v", err, context.Cause(ctx))
				}
				t.Fatal(err)
			}
			wall := time.Since(start)
			msg := fmt.Sprintf("%s %s: %d launches, %d boots, %d cuts, %d infrastructure retries, wall %.1fs, boot-to-ready %s",
				sc.Name, res.Backend, len(res.Launches), res.Boots, res.Cuts, g.Retries, wall.Seconds(), durations(g.BootToReady))
			t.Log(msg)
			fmt.Fprintln(os.Stderr, "vmtest: "+msg)
			if !res.Passed() {
				t.Fatalf("%s:\n%s\nlog:\n%s", sc.Name, strings.Join(res.Failures, "\n"), res.Log)
			}
			for _, f := range sc.Faults {
				if f.Kind == KindPowerCut && res.Cuts == 0 {
					t.Errorf("the power-cut fault %+v never fired:\n%s", f, res.Log)
				}
			}
			r := <-refc
			refc <- r
			if r.err != nil {
				t.Fatal(r.err)
			}
			ref := r.res
			if !reflect.DeepEqual(ref.Outcome, res.Outcome) || ref.Boots != res.Boots || ref.Cuts != res.Cuts {
				t.Errorf("the back-ends differ (a bug of the model or of zupgrade):\n in-process: %d boots, %d cuts, %+v\n %s: %d boots, %d cuts, %+v",
					ref.Boots, ref.Cuts, ref.Outcome, res.Backend, res.Boots, res.Cuts, res.Outcome)
			}
		})
	}
}

func durations(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%.1fs", d.Seconds()))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// BenchmarkLinuxGuestBoot measures boot-to-ready of the Linux guest: QEMU
// started until the guest agent's first line, and the whole launch (the
// agent powers off at once).
func BenchmarkLinuxGuestBoot(b *testing.B) {
	if missing := MissingGuestTools(); len(missing) > 0 {
		b.Skip("the Linux guest needs: " + strings.Join(missing, ", "))
	}
	dir := b.TempDir()
	kit, err := NewGuestKit(dir, binaries(b))
	if err != nil {
		b.Fatal(err)
	}
	accel, err := kit.ChooseAccel(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Log("accelerator: " + accel)
	g, err := newProbeGuest(kit, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := g.Launch(context.Background(), Job{Kind: JobProbe}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var sum time.Duration
	for _, d := range g.BootToReady {
		sum += d
	}
	b.ReportMetric(sum.Seconds()/float64(len(g.BootToReady)), "s-boot-to-ready/op")
}
