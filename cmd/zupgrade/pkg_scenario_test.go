// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Third-party software on whole upgrades: the pkg a host really has, a
// package the new repository lacks, and hosts that build from ports.

// TestPkgBootstrapOnOldPkg: a 13.2 host runs pkg 1.19.1, which has no
// `bootstrap -f -y`; the package step must still reinstall pkg.
func TestPkgBootstrapOnOldPkg(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.2-RELEASE"})
	if got := h.sh("pkg", "query", "%n %v"); !strings.Contains(got, "pkg 1.19.1\n") {
		t.Fatalf("the host does not run pkg 1.19.1:\n%s", got)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	h.assertDone(code, log)
	if got := h.sh("pkg", "query", "%n %q"); !strings.Contains(got, "pkg FreeBSD:14:amd64\n") || strings.Contains(got, "FreeBSD:13") {
		t.Errorf("packages after the upgrade:\n%s", got)
	}
	h.assertBootsEverywhere("14.2-RELEASE")
}

// TestPackageMissingFromRepository: pkg upgrade -f leaves a package the
// 14 repository lacks built for 13. The run stops before install #3
// removes the libraries it needs, naming it; with --compat-libs it goes on
// with misc/compat13x installed.
func TestPackageMissingFromRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Packages: []simhost.PackageSpec{
		{Name: "curl", Version: "8.11.1", Libs: []string{"libssl"}},
		{Name: "oldtool", Version: "2.1", Libs: []string{"libssl"}, NotInRepo: true},
	}})
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	j := h.journal()
	// The step fails in the resume the boot hook started: the hook's
	// exit status is the daemon's, the journal tells.
	if j == nil || j.Status != steps.StatusFailed || j.Current() == nil || j.Current().ID != steps.StepPackages {
		t.Fatalf("the run did not stop at the package step (exit %d):\n%s", code, log)
	}
	for _, want := range []string{"oldtool", "FreeBSD:14:amd64", "misc/compat13x", "--compat-libs"} {
		if !strings.Contains(j.Message, want) {
			t.Errorf("the run's message does not say %q: %s", want, j.Message)
		}
	}
	for i, s := range j.Plan.Steps {
		if s.ID == steps.StepInstallLibs && j.Steps[i].State != steps.StepPending {
			t.Errorf("install #3 is %s", j.Steps[i].State)
		}
	}
	if _, err := os.Stat(h.m.HostPath("/usr/lib/libssl.so.111")); err != nil {
		t.Errorf("the old libraries are gone before the packages were dealt with: %v", err)
	}

	code, log = h.runUpgrade(nil, "--compat-libs")
	h.assertDone(code, log)
	if got := h.sh("pkg", "query", "%n %q"); !strings.Contains(got, "compat13x FreeBSD:14:amd64\n") || !strings.Contains(got, "oldtool FreeBSD:13:amd64\n") {
		t.Errorf("packages after --compat-libs:\n%s", got)
	}
	h.assertBootsEverywhere("14.2-RELEASE")
}

// TestPortsHost: software built from ports on a host without a package
// repository is found by inspect, rebuilt by portmaster -aPf after the
// world install, and the step is done only when every port is built for
// the new release.
func TestPortsHost(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Ports: true, Portmaster: true, NoRepository: true, Packages: []simhost.PackageSpec{
		{Name: "curl", Version: "8.11.1", Libs: []string{"libssl"}},
		{Name: "localtool", Version: "0.3", Libs: []string{"libcrypto"}, NotInRepo: true},
	}})
	code, out := h.zupgrade(nil, "inspect", "--json")
	if code != 0 || !strings.Contains(out, `"from_ports": [`) || !strings.Contains(out, `"localtool"`) {
		t.Errorf("inspect --json does not list the ports (exit %d):\n%s", code, out)
	}
	code, out = h.zupgrade(nil, "plan", "--to", "14.2-RELEASE")
	if code != 0 || !strings.Contains(out, "portmaster -aPf") || strings.Contains(out, "pkg-static upgrade") {
		t.Errorf("plan for a ports host (exit %d):\n%s", code, out)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	h.assertDone(code, log)
	if !strings.Contains(log, "===>>> Starting build for misc/localtool") {
		t.Errorf("portmaster did not rebuild the ports:\n%s", log)
	}
	if got := h.sh("pkg", "query", "%n %q"); strings.Contains(got, "FreeBSD:13") {
		t.Errorf("packages after the upgrade:\n%s", got)
	}
	h.assertBootsEverywhere("14.2-RELEASE")
}
