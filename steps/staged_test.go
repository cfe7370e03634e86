// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"strings"
	"testing"
)

// TestPlanMethod: an upgrade is staged where bectl check passes, the root
// is a boot environment and the state directory is outside the boot
// environments; otherwise, or with --in-place, it is in place, and the
// plan says why.
func TestPlanMethod(t *testing.T) {
	const example, to = "fifteen-from-14.3-no-en", "15.0-RELEASE"
	for _, c := range []struct {
		name    string
		opts    Options
		method  string
		reason  string
		blocked bool
	}{
		{"state on the pool's root dataset", Options{StateDataset: "zroot"}, MethodStaged, "staged in boot environment 15.0-RELEASE: bectl check passes", false},
		{"--in-place", Options{StateDataset: "zroot", InPlace: true}, MethodInPlace, "in place (--in-place)", true},
		{"state in the boot environment", Options{StateDataset: "zroot/ROOT/default"}, MethodInPlace, "is not known to be outside the boot environment", true},
		{"state in another boot environment", Options{StateDataset: "zroot/ROOT/other"}, MethodInPlace, "is not known to be outside the boot environment", true},
		{"state unknown", Options{}, MethodInPlace, "is not known to be outside the boot environment", true},
		{"ports rebuilt by portmaster", Options{StateDataset: "zroot", Packages: "portmaster"}, MethodInPlace, "portmaster", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := factsOf(t, example)
			c.opts.To, c.opts.Now = to, planTime
			p := Build(f, c.opts)
			if p.Method != c.method || !strings.Contains(p.MethodReason, c.reason) {
				t.Errorf("method %q: %s; want %q: %s", p.Method, p.MethodReason, c.method, c.reason)
			}
			// Without EN-25:18 only the in-place upgrade is blocked.
			if p.Blocked() != c.blocked {
				t.Errorf("blocked %v, want %v: %+v", p.Blocked(), c.blocked, p.Checks)
			}
			staged := p.Staged != nil
			for _, s := range p.Steps {
				if s.ID == StepZpoolUpgrade && staged {
					t.Errorf("the staged plan upgrades the pool")
				}
			}
			if staged && (p.Staged.BootEnv != to || p.Staged.MountPoint != StageMountPoint || p.Steps[len(p.Steps)-1].ID != StepCommitBootEnv) {
				t.Errorf("staged plan: %+v, last step %s", p.Staged, p.Steps[len(p.Steps)-1].ID)
			}
		})
	}
	// A boot environment of the target's name is in the way.
	f := factsOf(t, example)
	f.BootEnvs.List = append(f.BootEnvs.List, f.BootEnvs.List[0])
	f.BootEnvs.List[len(f.BootEnvs.List)-1].Name = to
	p := Build(f, Options{To: to, Now: planTime, StateDataset: "zroot"})
	if c := p.check("stage-boot-env"); c.Verdict != Block || !strings.Contains(c.Fix, "bectl destroy "+to) {
		t.Errorf("check with %s there: %+v", to, c)
	}
}

// TestCheckHealthCommand refuses a --health-cmd that cannot run as given.
func TestCheckHealthCommand(t *testing.T) {
	for _, ok := range [][]string{{"/usr/local/bin/check"}, {"cat", "/etc/rc.conf"}} {
		if err := CheckHealthCommand(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range [][]string{nil, {"-x"}, {"bin/check"}, {"check", "a\nb"}} {
		if err := CheckHealthCommand(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
