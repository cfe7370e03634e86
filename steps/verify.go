// SPDX-License-Identifier: BSD-2-Clause

package steps

// VerifyKind names how a step's effect is recognised on the host: what its
// Done check reads (for a checkpoint, what is checked after the reboot).
type VerifyKind string

// The verifications.
const (
	VerifyChecksAgain      VerifyKind = "checks-again"
	VerifyMetadataPath     VerifyKind = "metadata-path"
	VerifyBootEnv          VerifyKind = "boot-env-listed"
	VerifySnapshot         VerifyKind = "snapshot-listed"
	VerifyUpgradeFetched   VerifyKind = "upgrade-fetched"
	VerifyPatchesFetched   VerifyKind = "patches-fetched"
	VerifyKernelInstalled  VerifyKind = "kernel-installed"
	VerifyWorldInstalled   VerifyKind = "world-installed"
	VerifyNoInstallPending VerifyKind = "no-install-pending"
	VerifyBootcode         VerifyKind = "bootcode-read-back"
	VerifyKernelRunning    VerifyKind = "kernel-running"
	VerifyKernelMatches    VerifyKind = "kernel-matches"
	VerifyFinal            VerifyKind = "final-state"
	VerifyPackages         VerifyKind = "packages-current"
	VerifyPoolFeatures     VerifyKind = "pool-features"
	VerifyFilesystems      VerifyKind = "filesystems-current"

	// The verifications of a staged upgrade's steps.
	VerifyHookArmed        VerifyKind = "hook-armed"
	VerifyBootEnvMounted   VerifyKind = "boot-env-mounted"
	VerifyStagedWorld      VerifyKind = "staged-world-installed"
	VerifyStagedPackages   VerifyKind = "staged-packages-current"
	VerifyStagedBootcode   VerifyKind = "staged-bootcode-read-back"
	VerifyBootEnvUnmounted VerifyKind = "boot-env-unmounted"
	VerifyTrialDeadline    VerifyKind = "trial-deadline"
	VerifyBootOnce         VerifyKind = "boot-once"
	VerifyTrialRunning     VerifyKind = "trial-running"
	VerifyHealthy          VerifyKind = "trial-healthy"
	VerifyCommitted        VerifyKind = "boot-env-active"
	// Finalize.
	VerifyBootEnvsGone VerifyKind = "boot-envs-gone"
)

// Verification is how a step's effect is recognised, with the values it
// is checked against; only the fields its kind names are set.
type Verification struct {
	Check VerifyKind `json:"check"`
	// Release is the release the host must show.
	Release string `json:"release,omitempty"`
	// Name and Dataset name the backup (Dataset only for a snapshot).
	Name    string `json:"name,omitempty"`
	Dataset string `json:"dataset,omitempty"`
	// Path is a staged boot environment's mount point.
	Path string `json:"path,omitempty"`
}

// String says the verification in English, for people.
func (v Verification) String() string {
	switch v.Check {
	case VerifyChecksAgain:
		return "every check above passes again when apply starts (the host is inspected anew)"
	case VerifyMetadataPath:
		return "freebsd-update's metadata path pattern accepts % and @"
	case VerifyBootEnv:
		return "bectl list -H shows " + v.Name
	case VerifySnapshot:
		return "zfs list -t snapshot shows " + v.Dataset + "@" + v.Name
	case VerifyUpgradeFetched:
		return "freebsd-update updatesready exits 0 and the fetched metadata is for " + v.Release
	case VerifyPatchesFetched:
		return "freebsd-update updatesready exits 0, or nothing is published beyond the installed patch level"
	case VerifyKernelInstalled:
		return "the kerneldone marker exists, or freebsd-version -k is " + v.Release
	case VerifyWorldInstalled:
		return "freebsd-version -u is " + v.Release
	case VerifyNoInstallPending:
		return "no freebsd-update install is pending"
	case VerifyBootcode:
		return "read back: each freebsd-boot partition starts with " + gptzfsboot + ", sector 0 of each disk holds " + pmbr + "'s boot code, each ESP's loaders equal " + loaderEFI
	case VerifyKernelRunning:
		return "uname -r is " + v.Release + " (the new kernel is running)"
	case VerifyKernelMatches:
		return "uname -r equals freebsd-version -k"
	case VerifyFinal:
		return "freebsd-version -kru all print " + v.Release + ", the boot pool is healthy, boot code is current on every disk"
	case VerifyPackages:
		return "pkg runs and every installed package is built for the new ABI"
	case VerifyPoolFeatures:
		return "every feature the step enables shows as enabled or active in zpool get, and none the loader cannot read is active"
	case VerifyFilesystems:
		return "zfs upgrade lists no file system below the current version"
	case VerifyHookArmed:
		return "the boot hook is installed and enabled (it is copied into the new boot environment with the rest)"
	case VerifyBootEnvMounted:
		return "bectl list -H shows " + v.Name + " mounted at " + v.Path
	case VerifyStagedWorld:
		return v.Path + "/bin/freebsd-version is of " + v.Release + " and no freebsd-update install is pending there"
	case VerifyStagedPackages:
		return "pkg -c " + v.Path + " runs and every package there is built for the new ABI"
	case VerifyStagedBootcode:
		return "read back: each freebsd-boot partition starts with " + v.Path + gptzfsboot + ", sector 0 of each disk holds its pmbr, each ESP's loaders equal " + v.Path + loaderEFI
	case VerifyTrialDeadline:
		return v.Path + trialRCScript + " is installed and enabled for the first boot of " + v.Name + " in " + v.Path + trialRCConf
	case VerifyBootEnvUnmounted:
		return "bectl list -H shows " + v.Name + " not mounted"
	case VerifyBootOnce:
		return "bectl list -H shows " + v.Name + " active for the next boot only (T)"
	case VerifyTrialRunning:
		return "the host rebooted and runs boot environment " + v.Name + " with kernel " + v.Release
	case VerifyHealthy:
		return "in " + v.Name + ": freebsd-version -kru all print " + v.Release + ", every service service -e lists runs, the boot pool is healthy, the --health-cmd passes"
	case VerifyCommitted:
		return "bectl list -H shows " + v.Name + " active now and on reboot, for good"
	case VerifyBootEnvsGone:
		return "bectl list -H shows none of the boot environments the step destroys"
	}
	return string(v.Check)
}
