package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Whole upgrades on simulated hosts, each ending with a host that boots the
// target release from every disk of the boot pool.
func TestUpgradeScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts take seconds each; not in -short")
	}
	tests := []struct {
		name string
		spec simhost.Spec
		to   string
	}{
		{"BIOS 2-way mirror 13.4 to 14.2", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 2}, "14.2-RELEASE"},
		{"BIOS+UEFI 3-way mirror with labels 14.3 to 15.0", simhost.Spec{Preset: "bios+uefi", Release: "14.3-RELEASE-p6", Disks: 3, Naming: "gpt-label", ESPs: "all"}, "15.0-RELEASE"},
		{"UEFI-only nda mirror 14.2 to 14.3", simhost.Spec{Preset: "uefi", Release: "14.2-RELEASE", Disks: 2, DiskPrefix: "nda", ESPs: "all"}, "14.3-RELEASE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, tt.spec)
			code, log := h.runUpgrade(nil, "--to", tt.to)
			h.assertDone(code, log)
			h.assertBootsEverywhere(tt.to)
			if !strings.Contains(h.sh("freebsd-version", "-u"), strings.TrimSuffix(tt.to, "-RELEASE")) {
				t.Errorf("userland is not %s", tt.to)
			}
			h.assertRunLog()
			if !strings.Contains(log, "[1/13] Preflight checks (preflight)") || !strings.Contains(log, "      | Kernel updates have been installed.") {
				t.Errorf("no step lines or streamed child output in the terminal output:\n%s", log)
			}
		})
	}
}
