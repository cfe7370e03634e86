// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"path"
	"time"
)

// The default state and log directories (hier(7): /var/db for state that
// persists, /var/log for logs, which newsyslog rotates: packaging/freebsd's
// newsyslog.conf.d entry).
const (
	DefaultStateDir = "/var/db/zupgrade"
	DefaultLogDir   = "/var/log/zupgrade"
)

// LogDirFor is the log directory of a run whose state directory is
// stateDir when none is given: DefaultLogDir beside the default state
// directory, else the state directory's logs/, so that an admin who keeps
// zupgrade's state elsewhere (another disk, a test root) finds the logs
// beside it.
func LogDirFor(stateDir string) string {
	if stateDir == "" || stateDir == DefaultStateDir {
		return DefaultLogDir
	}
	return path.Join(stateDir, "logs")
}

// Options are the admin's choices for a plan.
type Options struct {
	// To is the target release ("" for a patch update).
	To string `json:"to,omitempty"`
	// Packages names the tool that upgrades third-party software after
	// the world is installed: "auto" (default: portmaster when it is
	// installed and software was built from ports, pkg otherwise), "pkg",
	// "portmaster" or "none".
	Packages string `json:"packages"`
	// CompatLibs installs misc/compatNNx (the old release's libraries)
	// when packages remain built for the old release after the package
	// step, instead of stopping the run before install #3.
	CompatLibs bool `json:"compat_libs,omitempty"`
	// StateDir is zupgrade's state directory on the host.
	StateDir string `json:"state_dir"`
	// LogDir is where the run's logs go on the host: its JSON log and
	// the boot hook's resume.log.
	LogDir string `json:"log_dir,omitempty"`
	// ExtraPools are pools besides the boot pool to `zpool upgrade`.
	ExtraPools []string `json:"extra_pools,omitempty"`
	// NoPoolUpgrade leaves every pool's features as they are.
	NoPoolUpgrade bool `json:"no_pool_upgrade,omitempty"`
	// FormatESPs formats the EFI system partitions of boot-pool disks that
	// hold no file system (the installer formats only the first disk's),
	// so that every disk can boot alone.
	FormatESPs bool `json:"format_esps,omitempty"`
	// Yes is the admin's agreement, given in advance, to what freebsd-update
	// asks that goes beyond the upgrade itself: replacing a custom kernel
	// that the new release does not distribute with GENERIC.
	Yes bool `json:"yes,omitempty"`
	// InPlace upgrades the running system itself, as before staged
	// upgrades, where the host would stage the upgrade in a new boot
	// environment (Plan.Method).
	InPlace bool `json:"in_place,omitempty"`
	// HealthCmd is the admin's health check of a staged upgrade's trial
	// boot: a program and its arguments, run without a shell; exit 0 is
	// healthy.
	HealthCmd []string `json:"health_cmd,omitempty"`
	// StateDataset is the file system StateDir is on (df), "" when
	// unknown; a staged upgrade needs it outside the boot environments.
	// A plan from a capture has none (the capture cannot say it); apply
	// asks df again for a saved plan.
	StateDataset string `json:"state_dataset,omitempty"`
	// StateDirWhy says why StateDir is where it is when zupgrade chose it
	// (no --state-dir): on the pool's root dataset, where both boot
	// environments of a staged upgrade see it, or why not there; in a plan
	// from a capture, that the capture cannot tell. plan's Method line
	// ends with it.
	StateDirWhy string `json:"state_dir_why,omitempty"`
	// AutoRevert reboots into the old boot environment at once when the
	// trial boot's health checks fail.
	AutoRevert bool `json:"auto_revert,omitempty"`
	// TrialDeadline is the time in seconds the hardware watchdog is armed
	// for at a staged upgrade's trial boot: 0 for DefaultTrialDeadline,
	// negative for none (--trial-deadline 0).
	TrialDeadline int `json:"trial_deadline,omitempty"`
	// Keep, for finalize, is how many boot environments stay: the
	// running one and the newest others; 0 destroys none.
	Keep int `json:"keep,omitempty"`
	// Now is when the plan is made; it names the backup boot environment.
	Now time.Time `json:"created"`
}
