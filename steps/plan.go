// SPDX-License-Identifier: BSD-2-Clause

// Package steps owns zupgrade's upgrade procedure: the ordered step catalog,
// the preflight checks, the Plan value that `plan` prints and `apply`
// executes, and the engine and journal that run a plan across reboots.
//
// Planning is pure: Build turns facts.Facts and Options into a Plan without
// touching the host. Execution goes through a host.Runner only.
package steps

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/zupgrade/zupgrade/facts"
)

// PlanFormat is the version of the saved plan document (plan -o).
const PlanFormat = 3

// Verdict is the outcome of a preflight check.
type Verdict string

// The verdicts, from harmless to fatal.
const (
	OK    Verdict = "ok"
	Warn  Verdict = "warn"
	Block Verdict = "block"
)

// Check is one preflight check and its outcome.
type Check struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Verdict Verdict `json:"verdict"`
	// Reason says what was found.
	Reason string `json:"reason"`
	// Fix says what the admin can do, for warn and block verdicts.
	Fix string `json:"fix,omitempty"`
}

// Cmd is an operation a step runs, as the plan shows it: the operation,
// the command it renders (Args, Env, Stdin, Terminal; for display, never
// read back) and the condition it runs under.
type Cmd struct {
	Op   Op
	Args []string
	// Env holds environment additions (KEY=VALUE).
	Env []string
	// Stdin is what the command is fed (prompts answered in advance).
	Stdin string
	// Terminal: the command runs on a pseudo-terminal, its controlling
	// terminal, where zupgrade answers its questions (freebsd-update asks
	// on /dev/tty) and stops it when it waits for something no one can
	// give unattended (an editor for a merge conflict).
	Terminal bool
	// When says under which condition the engine runs it (zero: always).
	When Cond
}

// Step is one entry of the catalog, with the parameters it was planned with.
type Step struct {
	// ID is stable across versions; the journal refers to steps by it.
	ID    string `json:"id"`
	Title string `json:"title"`
	// Commands are the exact commands the step will run on this host.
	Commands []Cmd `json:"commands,omitempty"`
	// Checkpoint marks a reboot checkpoint.
	Checkpoint bool `json:"checkpoint,omitempty"`
	// Verify says how the step's effect is recognised on the host (its
	// Done check); for a checkpoint, what is verified after the reboot.
	Verify Verification `json:"verify"`
	// Skip, when set, says why the step will not run on this host.
	Skip string `json:"skip,omitempty"`
	// Notes are things the admin should know about this step here.
	Notes []string `json:"notes,omitempty"`
}

// Plan is a complete, host-specific upgrade procedure.
type Plan struct {
	Format int `json:"format"`
	// Mode is "upgrade" (to another release) or "patch" (updates of the
	// current release).
	Mode string `json:"mode"`
	From string `json:"from"`
	// To is the target release ("" in patch mode: whatever is published).
	To      string  `json:"to,omitempty"`
	Options Options `json:"options"`
	// Method is how an upgrade is carried out: MethodStaged or
	// MethodInPlace ("" for patches); MethodReason says why.
	Method       string `json:"method,omitempty"`
	MethodReason string `json:"method_reason,omitempty"`
	// Staged is the boot environment a staged upgrade builds.
	Staged *Staged     `json:"staged,omitempty"`
	Checks []Check     `json:"checks"`
	Steps  []Step      `json:"steps"`
	Facts  facts.Facts `json:"facts"`
	// FactsHash fingerprints the facts that matter to the plan; apply
	// refuses a saved plan whose host no longer matches it.
	FactsHash string `json:"facts_hash"`
	// NothingToDo says why plan --to has nothing to do (the host runs the
	// target release already); such a plan has no checks and no steps,
	// and is never saved.
	NothingToDo string `json:"nothing_to_do,omitempty"`
}

// ReadPlan reads a saved plan (plan -o). A plan of another format is
// refused with what to do: make the plan again with this zupgrade. Its
// errors read on from the file's name ("FILE is not a zupgrade plan").
func ReadPlan(data []byte) (*Plan, error) {
	var head struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("is not a zupgrade plan: %v", err)
	}
	if head.Format != PlanFormat {
		return nil, fmt.Errorf("is a plan of format %d, and this zupgrade reads %d: make the plan again with this zupgrade (zupgrade plan -o FILE)", head.Format, PlanFormat)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("is not a zupgrade plan: %v", err)
	}
	return &p, nil
}

// Blocked reports whether a check blocks the plan.
func (p *Plan) Blocked() bool {
	for _, c := range p.Checks {
		if c.Verdict == Block {
			return true
		}
	}
	return false
}

// Backup is the backup a plan makes: a boot environment Name, or where
// there are none the recursive snapshot Dataset@Name.
type Backup struct {
	Name    string
	Dataset string
}

// Backup returns the backup the plan's backup step makes, false when it
// makes none.
func (p *Plan) Backup() (Backup, bool) {
	for _, s := range p.Steps {
		if s.ID != StepBackup || len(s.Commands) == 0 {
			continue
		}
		switch op := s.Commands[0].Op.(type) {
		case *CreateBootEnv:
			return Backup{Name: op.Name}, true
		case *Snapshot:
			return Backup{Name: op.Name, Dataset: op.Dataset}, true
		}
	}
	return Backup{}, false
}

// Fingerprint hashes the parts of the facts a plan depends on: releases,
// boot method, boot pool layout and boot partitions, boot environments
// support, freebsd-update's pending state, pkgbase, whether software built
// from ports and portmaster are there (the package tool). Free space, scan
// progress and other values that move on their own are left out.
func Fingerprint(f *facts.Facts) string {
	type member struct{ Name, Disk, Partition string }
	type disk struct {
		Name string
		Boot []string
		ESPs []string
	}
	v := struct {
		Release            facts.Release
		Machine, Boot      string
		RootDataset, Pool  string
		Members            []member
		Disks              []disk
		BE                 bool
		Pending            bool
		Phase, Fetched     string
		Pkgbase, Activated bool
		PortsTool          bool
	}{
		Release: f.Release, Machine: f.Machine, Boot: f.BootMethod,
		RootDataset: f.RootDataset, Pool: f.BootPool,
		BE: f.BootEnvs.Supported, Pending: f.Update.Pending, Phase: f.Update.Phase,
		Fetched: f.Update.Fetched, Pkgbase: f.Pkg.Pkgbase, Activated: f.Pkg.Activated,
		PortsTool: f.Pkg.Portmaster && len(f.Pkg.FromPorts) > 0,
	}
	for _, p := range f.Pools {
		if p.Name != f.BootPool {
			continue
		}
		for _, m := range p.Members {
			v.Members = append(v.Members, member{m.Name, m.Disk, m.Partition})
		}
	}
	for _, d := range f.Disks {
		dd := disk{Name: d.Name}
		for _, b := range d.BootPartitions {
			dd.Boot = append(dd.Boot, b.Name)
		}
		for _, e := range d.ESPs {
			dd.ESPs = append(dd.ESPs, e.Name+":"+e.Format)
		}
		v.Disks = append(v.Disks, dd)
	}
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
