// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
)

// ModeFinalize is the mode of a finalize plan: the one-way steps after a
// staged upgrade was committed.
const ModeFinalize = "finalize"

// StepPrune is the step that destroys old boot environments (--keep).
const StepPrune = "prune-boot-envs"

// finalizeCatalog is the order of finalize's steps: boot code made
// current where it is not, the pool features the loader can read (with
// boot code written again on every disk), file system versions, and the
// old boot environments beyond --keep.
var finalizeCatalog = []stepDef{
	bootcodeStep{},
	zpoolUpgradeStep{},
	zfsUpgradeStep{},
	pruneStep{},
}

// finalizeChecks are the upgrade's preflight checks that hold for
// finalize too.
var finalizeChecks = []string{"root", "freebsd", "runtime", "jail", "zfs-root", "pool-health", "pool-scan"}

// BuildFinalize makes the plan of zupgrade finalize: the point of no
// return after a staged upgrade, when the old boot environment is no
// longer needed to fall back to. pending says why the trial is not
// committed yet as the run's journal tells ("" when it is, or there is
// none); the host's boot environments say the rest. While the old boot
// environment is still the fallback the plan is blocked, unless opts.Yes.
func BuildFinalize(f *facts.Facts, opts Options, pending string) *Plan {
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	if opts.LogDir == "" {
		opts.LogDir = LogDirFor(opts.StateDir)
	}
	opts.To = ""
	p := &Plan{
		Format:    PlanFormat,
		Mode:      ModeFinalize,
		From:      f.Release.Running,
		Options:   opts,
		Facts:     *f,
		FactsHash: Fingerprint(f),
	}
	t, tErr := parseTarget(f, "")
	for _, c := range preflight(f, opts, t, tErr) {
		if slices.Contains(finalizeChecks, c.ID) {
			p.Checks = append(p.Checks, c)
		}
	}
	p.Checks = append(p.Checks, committedCheck(f, opts, pending))
	b := builder{f: f, opts: opts, t: t}
	p.Steps = b.steps(finalizeCatalog)
	return p
}

// committedCheck blocks finalize while the old boot environment is still
// the fallback: a one-time activation is pending, the running boot
// environment is not the one the next boot uses, or the journal says the
// trial is not committed. --yes turns the block into a warning.
func committedCheck(f *facts.Facts, opts Options, pending string) Check {
	c := Check{ID: "trial-committed", Title: "the staged upgrade is committed (no fallback needed)"}
	var why []string
	var running, next string
	for _, be := range f.BootEnvs.List {
		if be.Temporary {
			why = append(why, be.Name+" is activated for the next boot only (bectl list shows T)")
		}
		if be.Active {
			running = be.Name
		}
		if be.OnReboot {
			next = be.Name
		}
	}
	if running != "" && next != "" && running != next {
		why = append(why, fmt.Sprintf("the running boot environment %s is not the one the next boot uses (%s)", running, next))
	}
	if pending != "" {
		why = append(why, pending)
	}
	switch {
	case len(why) == 0 && running == "":
		c.Verdict, c.Reason = OK, "no boot environments: nothing to fall back to"
	case len(why) == 0:
		c.Verdict, c.Reason = OK, running+" runs and is the one the next boot uses"
	case opts.Yes:
		c.Verdict, c.Reason = Warn, strings.Join(why, "; ")+" (--yes: finalizing anyway)"
		c.Fix = "the old boot environment will not boot once the pool features are enabled"
	default:
		c.Verdict, c.Reason = Block, strings.Join(why, "; ")
		c.Fix = "finish the trial first: reboot into the new boot environment and let zupgrade commit it (zupgrade status), or give --yes to finalize anyway"
	}
	return c
}

// FinalizeStage is finalize as a staged plan shows it: a later, separate
// stage, with what it will do on this host. The staged plan prints its
// lines after its own steps.
func FinalizeStage(f *facts.Facts, opts Options) []string {
	p := BuildFinalize(f, opts, "")
	out := []string{"Later, as a separate stage once the new boot environment is committed: zupgrade finalize (one-way; the old boot environments no longer boot after it)"}
	for _, s := range p.Steps {
		line := "  - " + s.Title
		if s.Skip != "" {
			line += " (skipped: " + s.Skip + ")"
		}
		out = append(out, line)
	}
	return out
}
