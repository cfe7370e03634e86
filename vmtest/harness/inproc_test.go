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

// TestScenariosInProcess runs every scenario against simhost in a
// temporary directory (back-end 1).
func TestScenariosInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades; not in -short")
	}
	for _, sc := range loadScenarios(t) {
		t.Run(sc.Name, func(t *testing.T) {
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
