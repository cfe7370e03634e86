// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"fmt"
	"path"
	"strings"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/facts"
)

// The methods of an upgrade (Plan.Method).
const (
	// MethodStaged builds the new release in a new boot environment
	// while the old one runs, boots it once on trial and keeps it when
	// healthy.
	MethodStaged = "staged"
	// MethodInPlace upgrades the running system, with a reboot between
	// the kernel and the world.
	MethodInPlace = "in-place"
)

// StageMountPoint is where a staged upgrade mounts the new boot
// environment. It is fixed: freebsd-update keys its pending state by the
// -b path as given (freebsd-update.sh: BDHASH is the sha256 of BASEDIR),
// so an install interrupted by a power cut resumes only at the same path.
const StageMountPoint = "/var/db/zupgrade-stage"

// Staged is the boot environment a staged upgrade builds and where it is
// mounted while it is built.
type Staged struct {
	BootEnv    string `json:"boot_env"`
	MountPoint string `json:"mount_point"`
	// Running is the boot environment the upgrade starts from, which a
	// failed trial returns to.
	Running string `json:"running"`
}

// StagedStateDir is where a staged run keeps its state when the admin
// names no state directory: on the boot pool's root dataset, which
// bsdinstall mounts at /POOL, outside every boot environment, so that
// the trial boot and, after a fallback, the old boot environment read
// the same journal.
func StagedStateDir(pool string) string { return path.Join("/", pool, "zupgrade") }

// CheckHealthCommand refuses a --health-cmd zupgrade cannot run as given:
// it is run without a shell, so its program must be an absolute path or
// a plain name found in PATH, and no word may hold a line break.
func CheckHealthCommand(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("--health-cmd names no program")
	}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, "\n\r") {
			return fmt.Errorf("--health-cmd %q: each word must be non-empty and on one line (it runs without a shell: give a script's path for anything more)", strings.Join(args, " "))
		}
	}
	if p := args[0]; strings.HasPrefix(p, "-") || strings.Contains(p, "/") && !path.IsAbs(p) {
		return fmt.Errorf("--health-cmd %q: the program must be an absolute path or a name found in PATH", p)
	}
	return nil
}

// method decides how the upgrade is carried out and says why: staged
// when bectl check passes and the root is a boot environment, unless the
// admin asked for --in-place or what the host needs cannot be done inside
// a boot environment.
func (b builder) method() (string, string, *Staged) {
	f := b.f
	be := path.Base(f.RootDataset)
	switch {
	case b.opts.InPlace:
		return MethodInPlace, "in place (--in-place)", nil
	case !f.BootEnvs.Supported:
		return MethodInPlace, "in place: bectl check fails, so the host has no boot environments to stage the upgrade in", nil
	case f.RootDataset == "" || !strings.Contains(path.Dir(f.RootDataset), "/"):
		return MethodInPlace, fmt.Sprintf("in place: the root %q is not a boot environment (POOL/ROOT/NAME)", f.RootDataset), nil
	case f.Pkg.Pkgbase:
		return MethodInPlace, "in place: the base system is managed by pkg (pkgbase), which freebsd-update does not upgrade", nil
	case !outsideBootEnv(f.RootDataset, b.opts.StateDataset) && b.opts.StateDirWhy != "":
		return MethodInPlace, fmt.Sprintf("in place: a staged run keeps its journal where both boot environments see it, and the state directory %s is not known to be outside the boot environment (df -k): %s", b.opts.StateDir, b.opts.StateDirWhy), nil
	case !outsideBootEnv(f.RootDataset, b.opts.StateDataset):
		return MethodInPlace, fmt.Sprintf("in place: the state directory %s is not known to be outside the boot environment (df -k): a staged run keeps its journal where both boot environments see it; give --state-dir a directory on the pool's root dataset, e.g. %s", b.opts.StateDir, StagedStateDir(f.BootPool)), nil
	case b.packagesTool() == "portmaster":
		return MethodInPlace, "in place: software built from ports is rebuilt by portmaster, which builds on the running system and cannot build inside the new boot environment (--packages pkg stages with the repository's packages instead)", nil
	}
	name := b.t.to.String()
	if err := bootenv.ValidateName(name); err != nil {
		return MethodInPlace, "in place: " + err.Error(), nil
	}
	reason := fmt.Sprintf("staged in boot environment %s: bectl check passes and the root %s is a boot environment; the new system is built there while %s runs, booted once on trial (bectl activate -t) and kept when healthy: one reboot", name, f.RootDataset, be)
	if b.opts.StateDirWhy != "" {
		reason += "; " + b.opts.StateDirWhy
	}
	return MethodStaged, reason, &Staged{BootEnv: name, MountPoint: StageMountPoint, Running: be}
}

// outsideBootEnv reports whether the dataset ds is known and outside the
// boot environment root.
func outsideBootEnv(root, ds string) bool {
	return ds != "" && ds != root && !strings.HasPrefix(ds, root+"/") && !strings.HasPrefix(ds, path.Dir(root)+"/")
}

// stagedChecks adapts the preflight checks to a staged upgrade: EN-25:18
// concerns the running system installing its own successor (libc before
// libsys), which a staged upgrade never does, and the new boot
// environment's name must be free.
func stagedChecks(f *facts.Facts, s *Staged, cs []Check) []Check {
	out := cs[:0]
	for _, c := range cs {
		if c.ID == "en-25-18" && c.Verdict == Block {
			c.Verdict, c.Fix = OK, ""
			c.Reason = "not needed: the staged upgrade installs into a boot environment that does not run until it boots, so the order in which its libraries land does not matter"
		}
		out = append(out, c)
	}
	c := Check{ID: "stage-boot-env", Title: "boot environment " + s.BootEnv + " does not exist yet", Verdict: OK, Reason: "bectl list shows none of that name"}
	if _, ok := findBootEnv(f, s.BootEnv); ok {
		c.Verdict = Block
		c.Reason = "bectl list shows a boot environment " + s.BootEnv + " already"
		c.Fix = "destroy it (bectl destroy " + s.BootEnv + ") or rename it (bectl rename " + s.BootEnv + " NEWNAME), or upgrade in place (--in-place)"
	}
	return append(out, c)
}

// findBootEnv finds a boot environment of the facts by name.
func findBootEnv(f *facts.Facts, name string) (facts.BootEnv, bool) {
	for _, b := range f.BootEnvs.List {
		if b.Name == name {
			return b, true
		}
	}
	return facts.BootEnv{}, false
}
