// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/pkgng"
)

// packagesTool is the tool the package step runs: --packages, or for
// "auto" portmaster when it is installed and software was built from
// ports, pkg otherwise.
func (b builder) packagesTool() string {
	if b.opts.Packages != "auto" {
		return b.opts.Packages
	}
	if b.f.Pkg.Portmaster && len(b.f.Pkg.FromPorts) > 0 {
		return "portmaster"
	}
	return "pkg"
}

// packagesStep upgrades third-party packages for the new ABI.
type packagesStep struct{}

func (packagesStep) id() string       { return StepPackages }
func (packagesStep) rerunnable() bool { return true }

func (packagesStep) done(sc *stepContext, ctx context.Context) (bool, error) {
	return sc.packagesCurrent(ctx)
}

func (packagesStep) run(sc *stepContext, ctx context.Context) error { return sc.runPackages(ctx) }

func (packagesStep) plan(b builder) Step {
	s := Step{ID: StepPackages, Title: "Upgrade third-party packages for the new ABI",
		Verify: Verification{Check: VerifyPackages}}
	tool := b.packagesTool()
	switch {
	case tool == "none":
		s.Skip = "--packages none: third-party software is the admin's to rebuild before the old libraries go"
	case tool == "portmaster":
		s.Commands = []Cmd{cmdFor(&Packages{Action: "portmaster"}, Cond{})}
		if b.opts.Packages == "auto" {
			s.Notes = append(s.Notes, fmt.Sprintf("portmaster, because software was built from ports (%s): it uses a package when there is one and builds the port otherwise", strings.Join(b.f.Pkg.FromPorts, ", ")))
		}
	case !b.f.Pkg.Activated:
		s.Skip = "pkg is not in use on this host"
	default:
		s.Commands = []Cmd{cmdFor(&Packages{Action: "bootstrap"}, Cond{}), cmdFor(&Packages{Action: "upgrade"}, Cond{})}
		s.Notes = []string{"IGNORE_OSVERSION and ASSUME_ALWAYS_YES are set on purpose: pkg's OSVERSION question would stall an unattended run"}
		if len(b.f.Pkg.FromPorts) > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("built from ports: %s; pkg upgrade -f replaces those the repository carries with its builds (port options are lost) and leaves the others built for the old release; --packages portmaster rebuilds them from ports", strings.Join(b.f.Pkg.FromPorts, ", ")))
		}
	}
	if b.t.mode == "upgrade" && b.t.move != freebsdupdate.MoveMajor && s.Skip == "" {
		s.Notes = append(s.Notes, "a minor upgrade keeps the ABI: packages are upgraded only if pkg reports they need it")
	}
	if b.t.mode == "upgrade" && b.t.move == freebsdupdate.MoveMajor && s.Skip == "" {
		old := b.t.current.Major
		if b.opts.CompatLibs {
			s.Commands = append(s.Commands, cmdFor(&Packages{Action: "compat", Major: old}, Cond{If: CondStalePackages, Major: old}))
		} else {
			s.Notes = append(s.Notes, fmt.Sprintf("packages still built for FreeBSD %d afterwards (missing from the new repository) stop the run before install #3 removes their libraries; --compat-libs installs %s instead", old, pkgng.CompatPackage(old)))
		}
	}
	return s
}

// stalePackages reads the installed packages and returns those not built
// for the target's ABI, and whether the plan's misc/compatNNx is
// installed. ok is false when the plan is no major upgrade (the ABI stays).
func (sc *stepContext) stalePackages(ctx context.Context) (stale []pkgng.Package, compat bool, ok bool, err error) {
	from, _ := freebsdupdate.ParseRelease(sc.plan.From)
	if sc.plan.Mode != "upgrade" || from.Major == sc.target().Major {
		return nil, false, false, nil
	}
	abi, err := pkgng.ExpectedABI(sc.target().Major, sc.plan.Facts.Machine)
	if err != nil {
		return nil, false, false, err
	}
	out, err := host.Output(ctx, sc.e.Runner, pkgng.QueryArgs()...)
	if err != nil {
		return nil, false, false, errUndecided
	}
	pkgs, err := pkgng.ParseQuery(out)
	if err != nil {
		return nil, false, false, err
	}
	for _, p := range pkgs {
		compat = compat || "misc/"+p.Name == pkgng.CompatPackage(from.Major)
	}
	return pkgng.Stale(pkgs, abi), compat, true, nil
}

// packagesCurrent: pkg runs and every package is built for the new ABI,
// or, with --compat-libs, misc/compatNNx is there for those that are not.
func (sc *stepContext) packagesCurrent(ctx context.Context) (bool, error) {
	n, err := sc.probe(ctx, pkgng.ActivationArgs()...)
	if err != nil {
		return false, err
	}
	if pkgng.ParseActivation(n.ExitCode) != pkgng.Activated {
		return !sc.plan.Facts.Pkg.Activated, nil
	}
	stale, compat, major, err := sc.stalePackages(ctx)
	if err != nil || !major {
		return err == nil, err
	}
	return len(stale) == 0 || (compat && sc.plan.Options.CompatLibs), nil
}

func (sc *stepContext) runPackages(ctx context.Context) error {
	for _, c := range sc.step.Commands {
		if !c.When.IsZero() {
			continue
		}
		if err := sc.runPackageCommand(ctx, c); err != nil {
			return err
		}
	}
	stale, compat, major, err := sc.stalePackages(ctx)
	if err != nil || !major || len(stale) == 0 {
		return err
	}
	from, _ := freebsdupdate.ParseRelease(sc.plan.From)
	names := make([]string, len(stale))
	for i, p := range stale {
		names[i] = p.Name + " (" + p.RawABI + ")"
	}
	abi, _ := pkgng.ExpectedABI(sc.target().Major, sc.plan.Facts.Machine)
	if !sc.plan.Options.CompatLibs {
		return fmt.Errorf("still built for the old release, not %s (the new repository lacks them, or their build failed): %s. Install #3 would remove the FreeBSD %d libraries they need. Rebuild them from ports (portmaster, or make -C /usr/ports/ORIGIN reinstall), remove the ones you no longer need (pkg delete), or run zupgrade apply --compat-libs to install %s, which keeps those libraries; then run zupgrade apply again",
			abi, strings.Join(names, ", "), from.Major, pkgng.CompatPackage(from.Major))
	}
	if compat {
		return nil
	}
	sc.note("still built for FreeBSD %d: %s; installing %s", from.Major, strings.Join(names, ", "), pkgng.CompatPackage(from.Major))
	return sc.runPackageCommand(ctx, cmdFor(&Packages{Action: "compat", Major: from.Major}, Cond{}))
}

// runPackageCommand runs one pkg or portmaster command and explains a
// failure with what pkg said.
func (sc *stepContext) runPackageCommand(ctx context.Context, c Cmd) error {
	res, err := sc.exec(ctx, c, pkgng.StallLine)
	if err != nil {
		return err
	}
	if res.OK() {
		return nil
	}
	o := pkgng.Classify(res.Stdout, res.Stderr, res.ExitCode)
	why := strings.Join(o.Evidence, " / ")
	if why == "" {
		why = lastLine(res.Stderr, res.Stdout)
	}
	return fmt.Errorf("%s: exit status %d: %s", host.QuoteArgs(c.Args), res.ExitCode, why)
}

// lastLine is the last non-empty line of the first output that has one.
func lastLine(outs ...[]byte) string {
	for _, out := range outs {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
			return l
		}
	}
	return ""
}
