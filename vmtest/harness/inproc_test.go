// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
)

// The programs every test of the package runs, built once.
var (
	buildOnce sync.Once
	bins      *Binaries
	buildErr  error
	binDir    string
)

func binaries(t testing.TB) *Binaries {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "vmtest-bin-")
		if buildErr == nil {
			bins, buildErr = Build(binDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins
}

func TestMain(m *testing.M) {
	if os.Getenv(fakeImageEnv) != "" {
		os.Exit(fakeFreeBSD(os.Args[1:]))
	}
	if os.Getenv(fakeVMEnv) != "" {
		os.Exit(fakeVM(os.Args[1:]))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

const scenarioDir = "../testdata/scenarios"

func loadScenarios(t *testing.T) []*Scenario {
	t.Helper()
	scs, err := LoadDir(scenarioDir)
	if err != nil {
		t.Fatal(err)
	}
	return scs
}

// expandedScenarios are the shipped scenarios with every matrix expanded
// into its cells.
func expandedScenarios(t *testing.T) []*Scenario {
	t.Helper()
	scs, err := Expand(context.Background(), loadScenarios(t), binaries(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return scs
}

// TestScenariosInProcess runs every scenario, every matrix cell too,
// against simhost in a temporary directory (back-end 1).
func TestScenariosInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades; not in -short")
	}
	for _, sc := range expandedScenarios(t) {
		t.Run(sc.Name, func(t *testing.T) {
			if sc.Skip != "" {
				t.Skip(sc.Skip)
			}
			t.Parallel()
			dir := t.TempDir()
			b, err := NewInProcess(dir, sc, binaries(t))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Execute(context.Background(), sc, b)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d boots, %d cuts, outcome %+v", res.Backend, res.Boots, res.Cuts, res.Outcome)
			if !res.Passed() {
				t.Errorf("%s:\n%s\nlog:\n%s", sc.Name, strings.Join(res.Failures, "\n"), res.Log)
			}
			for _, f := range sc.Faults {
				if f.Kind == KindPowerCut && res.Cuts == 0 {
					t.Errorf("the power-cut fault %+v never fired:\n%s", f, res.Log)
				}
			}
		})
	}
}

// TestCrashPointJobs: at a crash point zupgrade is killed and the machine
// stays up (sigkill), or the power goes too (power-cut).
func TestCrashPointJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs zupgrade on simulated hosts; not in -short")
	}
	sc := &Scenario{Name: "crash", Machine: simhostSpecBIOS()}
	for _, cut := range []bool{false, true} {
		t.Run(map[bool]string{false: "sigkill", true: "power-cut"}[cut], func(t *testing.T) {
			t.Parallel()
			b, err := NewInProcess(t.TempDir(), sc, binaries(t))
			if err != nil {
				t.Fatal(err)
			}
			res, err := b.Launch(context.Background(), Job{Kind: JobApply, Apply: []string{"--to", "14.2-RELEASE"}, CrashAt: "upgrade:after-started", CrashIsCut: cut})
			if err != nil {
				t.Fatal(err)
			}
			if res.Exit != -1 || res.Journal != "running" || res.Cut != cut || res.Down != cut {
				t.Errorf("exit %d, journal %q, cut %v, down %v; want -1, running, %v, %v\n%s", res.Exit, res.Journal, res.Cut, res.Down, cut, cut, res.Output)
			}
		})
	}
}
