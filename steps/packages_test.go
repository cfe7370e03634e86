// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"slices"
	"strings"
	"testing"
)

// TestPackagesStepTool checks the tool --packages auto picks, and what the
// step says about ports and packages left on the old release.
func TestPackagesStepTool(t *testing.T) {
	f := factsOf(t, "bios-mirror")
	argv := func(s Step) []string {
		var out []string
		for _, c := range s.Commands {
			out = append(out, strings.Join(c.Args, " "))
		}
		return out
	}

	s := Build(f, Options{To: "14.2-RELEASE", Now: planTime}).step(StepPackages)
	if got := argv(s); !slices.Equal(got, []string{"pkg-static bootstrap -f", "pkg-static upgrade -f -y"}) {
		t.Errorf("auto without ports: %q", got)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "--compat-libs installs misc/compat13x") {
		t.Errorf("notes without --compat-libs: %q", s.Notes)
	}

	ports := *f
	ports.Pkg.FromPorts = []string{"localtool"}
	s = Build(&ports, Options{To: "14.2-RELEASE", Now: planTime}).step(StepPackages)
	if got := argv(s); len(got) != 2 || !strings.Contains(strings.Join(s.Notes, "\n"), "built from ports: localtool") {
		t.Errorf("ports without portmaster: %q, notes %q", got, s.Notes)
	}
	ports.Pkg.Portmaster = true
	s = Build(&ports, Options{To: "14.2-RELEASE", Now: planTime}).step(StepPackages)
	if got := argv(s); !slices.Equal(got, []string{"portmaster -aPf --no-confirm -G -D"}) {
		t.Errorf("auto with ports and portmaster: %q", got)
	}
	if Fingerprint(&ports) == Fingerprint(f) {
		t.Error("the facts that choose the package tool are not in the fingerprint")
	}
	s = Build(&ports, Options{To: "14.2-RELEASE", Packages: "pkg", CompatLibs: true, Now: planTime}).step(StepPackages)
	got := argv(s)
	if len(got) != 3 || got[2] != "pkg-static install -y misc/compat13x" || s.Commands[2].When.IsZero() {
		t.Errorf("--packages pkg --compat-libs: %q", got)
	}
}
