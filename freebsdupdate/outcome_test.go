// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zupgrade/zupgrade/internal/transcript"
)

const (
	fixtureMajor   = "freebsd-update-major-upgrade-14.3-to-15.0-full-sequence.txt"
	fixtureMinor10 = "freebsd-update-minor-10.2-to-10.3-chinese-notes.txt"
	fixtureJail    = "freebsd-update-jail-upgrade-14.0-to-14.1.txt"
	fixtureBasedir = "freebsd-update-upgrade-into-mounted-be-basedir-11.1.txt"
	fixtureBE      = "freebsd-update-install-be-snapshot-interrupted-13.2.txt"
	fixtureHB      = "freebsd-update-upgrade-handbook-9.0-to-9.1.txt"
	fixturePkgbase = "freebsd-update-upgrade-14.2-BETA2-pkgbase-host.txt"
)

// outcomeCase is one classification test. Output comes from a fixture run
// (fixture, command, n) or is written here (stdout, stderr) from the
// messages of freebsd-update.sh quoted in
// freebsd-update-sh-messages-and-exit-codes-from-source.txt.
type outcomeCase struct {
	name             string
	fixture, command string
	n                int
	stdout, stderr   string
	exit             int
	install          bool // ClassifyInstall, else ClassifyFetch

	kind         OutcomeKind
	evidenceHas  string
	files        []string
	release      string
	bootEnv      bool
	customKernel string
	kernelKept   bool
	endOfLife    bool
}

func (c outcomeCase) classify(t testing.TB) Outcome {
	t.Helper()
	stdout, stderr := c.stdout, c.stderr
	if c.fixture != "" {
		stdout = transcript.RunOf(t, c.fixture, c.command, c.n).Output
	}
	if c.install {
		return ClassifyInstall([]byte(stdout), []byte(stderr), c.exit)
	}
	return ClassifyFetch([]byte(stdout), []byte(stderr), c.exit)
}

const (
	pkgbaseRefusal = "freebsd-update is incompatible with the use of packaged base.  Please see\nhttps://wiki.freebsd.org/PkgBase for more information.\n"
	noMirrors      = "Looking up update.FreeBSD.org mirrors... none found.\nFetching metadata signature for 12.1-RELEASE from update.FreeBSD.org... failed.\nNo mirrors remaining, giving up.\n\nThis may be because upgrading from this platform (riscv)\nor release (12.1-RELEASE) is unsupported by freebsd-update. Only\nplatforms with Tier 1 support can be upgraded by freebsd-update.\nSee https://www.freebsd.org/platforms/ for more info.\n\nIf unsupported, FreeBSD must be upgraded by source.\n"
	fetchHead      = "src component not installed, skipped\nLooking up update.FreeBSD.org mirrors... 3 mirrors found.\nFetching metadata signature for 14.2-RELEASE from update2.freebsd.org... done.\nFetching metadata index... done.\nInspecting system... done.\nPreparing to download files... done.\n"
	conflictLoop   = "Attempting to automatically merge changes in files... done.\n\nThe following file could not be merged automatically: /etc/ssh/sshd_config\nPress Enter to edit this file in /usr/bin/false and resolve the conflicts\nmanually...\n\nMerge conflict markers remain in: /etc/ssh/sshd_config\nThese must be resolved for the system to be functional.\n\nPress Enter to return to editing this file, or type \"ACCEPT\" to carry on with\nthese lines remaining in the file.\n\nMerge conflict markers remain in: /etc/ssh/sshd_config\nThese must be resolved for the system to be functional.\n"
)

var outcomeCases = []outcomeCase{
	// Real runs.
	{name: "14.3 to 15.0 upgrade with a conflict resolved by hand", fixture: fixtureMajor, command: "freebsd-update upgrade", exit: 0,
		kind: OutcomeMergeConflict, files: []string{"/etc/pkg/FreeBSD.conf"}, evidenceHas: "could not be merged automatically"},
	{name: "15.0 install #1", fixture: fixtureMajor, command: "freebsd-update install", n: 0, exit: 0, install: true,
		kind: OutcomeKernelInstalled, evidenceHas: "Kernel updates have been installed.", bootEnv: true},
	{name: "15.0 install #2", fixture: fixtureMajor, command: "freebsd-update install", n: 1, exit: 0, install: true,
		kind: OutcomeWorldInstalled, evidenceHas: "removing old shared object files", bootEnv: true},
	{name: "15.0 install #3", fixture: fixtureMajor, command: "freebsd-update install", n: 2, exit: 0, install: true,
		kind: OutcomeInstallDone, evidenceHas: "Installing updates... done.", bootEnv: true},
	{name: "10.3 upgrade, old wording", fixture: fixtureMinor10, command: "freebsd-update upgrade", exit: 0,
		kind: OutcomeReadyToInstall, evidenceHas: "To install the downloaded upgrades"},
	{name: "10.3 install #1", fixture: fixtureMinor10, command: "freebsd-update install", n: 0, exit: 0, install: true,
		kind: OutcomeKernelInstalled, evidenceHas: "Kernel updates"},
	{name: "10.3 install #2 is the last (no library bump)", fixture: fixtureMinor10, command: "freebsd-update install", n: 1, exit: 0, install: true,
		kind: OutcomeInstallDone, evidenceHas: "done."},
	{name: "jail upgrade", fixture: fixtureJail, command: "freebsd-update -j myjail --currently-running", exit: 0,
		kind: OutcomeReadyToInstall, evidenceHas: "To install the downloaded upgrades"},
	{name: "jail install #1", fixture: fixtureJail, command: "freebsd-update -j myjail install", n: 0, exit: 0, install: true,
		kind: OutcomeKernelInstalled, evidenceHas: "Kernel updates"},
	{name: "jail install #2, done. after certctl output", fixture: fixtureJail, command: "freebsd-update -j myjail install", n: 1, exit: 0, install: true,
		kind: OutcomeInstallDone, evidenceHas: "done."},
	{name: "11.1 basedir upgrade", fixture: fixtureBasedir, command: "freebsd-update upgrade -b /mnt", exit: 0,
		kind: OutcomeReadyToInstall, evidenceHas: "To install"},
	{name: "11.1 install #1", fixture: fixtureBasedir, command: "freebsd-update install -b /mnt", n: 0, exit: 0, install: true,
		kind: OutcomeKernelInstalled, evidenceHas: "Kernel updates"},
	{name: "11.1 install #2, old wording", fixture: fixtureBasedir, command: "freebsd-update install -b /mnt", n: 1, exit: 0, install: true,
		kind: OutcomeWorldInstalled, evidenceHas: "Completing this upgrade"},
	{name: "11.1 install #3", fixture: fixtureBasedir, command: "freebsd-update install -b /mnt", n: 2, exit: 0, install: true,
		kind: OutcomeInstallDone, evidenceHas: "Installing updates... done."},
	{name: "13.2 install interrupted after the boot environment", fixture: fixtureBE, command: "/usr/sbin/freebsd-update install", exit: 130, install: true,
		kind: OutcomeUnknownError, bootEnv: true},
	{name: "handbook upgrade with a custom kernel", fixture: fixtureHB, command: "freebsd-update -r 9.1-RELEASE upgrade", exit: 0,
		kind: OutcomeUnrecognized, customKernel: "MYKERNEL", kernelKept: true},
	{name: "pkgbase host before the refusal existed", fixture: fixturePkgbase, command: "freebsd-update upgrade", exit: 1,
		kind: OutcomeUnknownError},

	// Refusals and failures, written from freebsd-update.sh's messages.
	{name: "pkgbase refusal on upgrade", stdout: pkgbaseRefusal, exit: 1, kind: OutcomePkgbase, evidenceHas: "packaged base"},
	{name: "pkgbase refusal on install", stdout: pkgbaseRefusal, exit: 1, install: true, kind: OutcomePkgbase, evidenceHas: "packaged base"},
	{name: "fetch without a terminal", stdout: "freebsd-update fetch should not be run non-interactively.\nRun freebsd-update cron instead.\n", exit: 1,
		kind: OutcomeNonInteractive, evidenceHas: "non-interactively"},
	{name: "partial upgrade pending", stdout: "src component not installed, skipped\nYou have a partially completed upgrade pending\nRun 'freebsd-update [options] install' first.\nRun 'freebsd-update [options] fetch -F' to proceed anyway.\n", exit: 1,
		kind: OutcomePartialUpgradePending, evidenceHas: "partially completed upgrade"},
	{name: "not a release", stdout: "freebsd-update: Cannot upgrade from a version that is not a release\n(including alpha, beta and release candidates)\nusing freebsd-update. Instead, FreeBSD can be directly\nupgraded by source or upgraded to a RELEASE/RELENG version\nprior to running freebsd-update.\nCurrently running: 15.0-CURRENT\n", exit: 1,
		kind: OutcomeNotARelease, evidenceHas: "Currently running: 15.0-CURRENT", release: "15.0-CURRENT"},
	{name: "upgrade to itself", stdout: "freebsd-update: Cannot upgrade from 14.2-RELEASE to itself\n", exit: 1,
		kind: OutcomeUpgradeToItself, evidenceHas: "to itself", release: "14.2-RELEASE"},
	{name: "no mirrors", stdout: noMirrors, exit: 1, kind: OutcomeNoMirrors, evidenceHas: "No mirrors remaining"},
	{name: "tag older than running", stdout: fetchHead + "\nFiles on mirror (14.2-RELEASE-p1) appear older than what\nwe are currently running (14.2-RELEASE-p3)!\nCowardly refusing to proceed any further.\n", exit: 1,
		kind: OutcomeTagSanity, evidenceHas: "Files on mirror (14.2-RELEASE-p1)"},
	{name: "tag older than last seen", stdout: fetchHead + "\nFiles on mirror (14.2-RELEASE-p1) are older than the\nmost recently seen updates (14.2-RELEASE-p2).\nCowardly refusing to proceed any further.\n", exit: 1,
		kind: OutcomeTagSanity, evidenceHas: "Cowardly refusing"},
	{name: "integrity check, current wording", stdout: fetchHead + "\nThe update metadata is correctly signed, but\nfailed an integrity check (invalid type f entry).\nCowardly refusing to proceed any further.\n", exit: 1,
		kind: OutcomeIntegrityCheck, evidenceHas: "(invalid type f entry)"},
	{name: "integrity check of the index", stdout: "The update metadata index is correctly signed, but\nfailed an integrity check (unexpected entry in tINDEX.new).\nCowardly refusing to proceed any further.\n", exit: 1,
		kind: OutcomeIntegrityCheck, evidenceHas: "index is correctly signed"},
	{name: "integrity check, 8.x wording on two lines", stdout: "Fetching 2 metadata files... done.\n\nThe update metadata is correctly signed, but\nfailed an integrity check.\nCowardly refusing to proceed any further.\n", exit: 1,
		kind: OutcomeIntegrityCheck, evidenceHas: "failed an integrity check."},
	{name: "integrity check, 8.x wording on one line", stdout: "The update metadata is correctly signed, but failed an integrity check.\nCowardly refusing to proceed any further.\n", exit: 1,
		kind: OutcomeIntegrityCheck, evidenceHas: "failed an integrity check."},
	{name: "merge conflict repeated without a terminal", stdout: conflictLoop + "\nThe following file could not be merged automatically: /etc/rc.conf\n", exit: -1,
		kind: OutcomeMergeConflict, files: []string{"/etc/ssh/sshd_config", "/etc/rc.conf"}, evidenceHas: "/etc/ssh/sshd_config"},
	{name: "merge review needs /dev/tty", stdout: "Attempting to automatically merge changes in files... done.\n\nThe following changes, which occurred between FreeBSD 14.3-RELEASE and\nFreeBSD 15.0-RELEASE have been merged into /etc/login.conf:\n--- current version\n+++ new version\n",
		stderr: "/usr/sbin/freebsd-update: cannot open /dev/tty: Device not configured\n", exit: 1,
		kind: OutcomeNeedsTerminal, evidenceHas: "/dev/tty"},
	{name: "no updates needed", stdout: fetchHead + "\nNo updates needed to update system to 14.2-RELEASE-p3.\n", exit: 0,
		kind: OutcomeNoUpdatesNeeded, evidenceHas: "No updates needed", release: "14.2-RELEASE-p3"},
	{name: "fetch ready", stdout: fetchHead + "Fetching 3 patches. done.\nApplying patches... done.\nThe following files will be updated as part of updating to\n14.2-RELEASE-p3:\n/bin/freebsd-version\n/boot/kernel/kernel\n", exit: 0,
		kind: OutcomeReadyToInstall, evidenceHas: "will be updated", release: "14.2-RELEASE-p3"},
	{name: "fetch on a release past its end of life exits 1", stdout: fetchHead + "The following files will be updated as part of updating to\n13.2-RELEASE-p11:\n/bin/freebsd-version\n\nWARNING: FreeBSD 13.2-RELEASE-p10 HAS PASSED ITS END-OF-LIFE DATE.\nAny security issues discovered after Sun Jun 30 20:00:00 EDT 2024\nwill not have been corrected.\n", exit: 1,
		kind: OutcomeReadyToInstall, release: "13.2-RELEASE-p11", endOfLife: true, evidenceHas: "13.2-RELEASE-p11"},
	{name: "upgrade ready names the target", stdout: "The following files will be removed as part of updating to\n15.0-RELEASE-p0:\n/.cshrc\nTo install the downloaded upgrades, run 'freebsd-update [options] install'.\n", exit: 0,
		kind: OutcomeReadyToInstall, release: "15.0-RELEASE", evidenceHas: "To install the downloaded upgrades"},
	{name: "upgrade answered no", stdout: "The following components of FreeBSD seem to be installed:\nkernel/generic world/base\n\nDoes this look reasonable (y/n)? n\n", exit: 1,
		kind: OutcomeUnknownError},
	{name: "fetch failure without a known message", stdout: fetchHead, stderr: "Cannot identify running kernel\n", exit: 1,
		kind: OutcomeUnknownError},

	// install.
	{name: "not root", stdout: "You must be root to run this.\n", exit: 1, install: true, kind: OutcomeNotRoot, evidenceHas: "root"},
	{name: "securelevel", stdout: "Updates cannot be installed when the system securelevel\nis greater than zero.\n", exit: 1, install: true,
		kind: OutcomeSecurelevel, evidenceHas: "greater than zero"},
	{name: "nothing to install", stdout: "src component not installed, skipped\nNo updates are available to install.\nRun 'freebsd-update [options] fetch' first.\n", exit: 2, install: true,
		kind: OutcomeNothingToInstall, evidenceHas: "No updates are available to install."},
	{name: "corrupt manifest", stdout: "Update manifest is corrupt -- this should never happen.\nRe-run 'freebsd-update [options] fetch'.\n", exit: 1, install: true,
		kind: OutcomeCorruptManifest, evidenceHas: "corrupt"},
	{name: "update files missing", stdout: "Installing updates...Update files missing -- this should never happen.\nRe-run 'freebsd-update [options] fetch'.\n", exit: 1, install: true,
		kind: OutcomeCorruptManifest, evidenceHas: "missing"},
	{name: "boot environment failed", stdout: "src component not installed, skipped\nCreating snapshot of existing boot environment... failed.\n", stderr: "cannot create 'zroot/ROOT/14.2-RELEASE_2026-11-26_130509': out of space\n", exit: 1, install: true,
		kind: OutcomeBootEnvFailed, evidenceHas: "failed."},
	{name: "install killed half way", stdout: "Creating snapshot of existing boot environment... done.\nInstalling updates...", exit: 143, install: true,
		kind: OutcomeUnknownError, bootEnv: true},
	{name: "install exit 0 without done", stdout: "Installing updates...", exit: 0, install: true, kind: OutcomeUnrecognized},
	{name: "kernel message but failure status", stdout: "Installing updates...\nKernel updates have been installed.  Please reboot and run\n", exit: 1, install: true, kind: OutcomeUnknownError},
}

func TestClassifyOutcomes(t *testing.T) {
	for _, c := range outcomeCases {
		t.Run(c.name, func(t *testing.T) {
			o := c.classify(t)
			if o.Kind != c.kind {
				t.Fatalf("Kind = %s, want %s (evidence %q, last %q)", o.Kind, c.kind, o.Evidence, o.LastLines)
			}
			if o.ExitCode != c.exit {
				t.Errorf("ExitCode = %d, want %d", o.ExitCode, c.exit)
			}
			if c.evidenceHas != "" && !strings.Contains(strings.Join(o.Evidence, "\n"), c.evidenceHas) {
				t.Errorf("Evidence %q lacks %q", o.Evidence, c.evidenceHas)
			}
			switch o.Kind {
			case OutcomeUnknownError, OutcomeUnrecognized:
				if len(o.Evidence) != 0 {
					t.Errorf("Evidence %q for an unproven outcome", o.Evidence)
				}
				if len(o.LastLines) == 0 {
					t.Error("no LastLines for an unproven outcome")
				}
			default:
				if len(o.Evidence) == 0 {
					t.Error("no Evidence")
				}
			}
			if diff := cmp.Diff(c.files, o.Files); diff != "" {
				t.Errorf("Files (-want +got):\n%s", diff)
			}
			wantRel := Release{}
			if c.release != "" {
				wantRel = MustParseRelease(c.release)
			}
			if o.Release != wantRel {
				t.Errorf("Release = %s, want %s", o.Release, wantRel)
			}
			if o.BootEnvCreated != c.bootEnv {
				t.Errorf("BootEnvCreated = %v, want %v", o.BootEnvCreated, c.bootEnv)
			}
			if o.CustomKernel != c.customKernel || o.CustomKernelNotUpdated != c.kernelKept {
				t.Errorf("CustomKernel = %q, %v; want %q, %v", o.CustomKernel, o.CustomKernelNotUpdated, c.customKernel, c.kernelKept)
			}
			if o.EndOfLife != c.endOfLife {
				t.Errorf("EndOfLife = %v, want %v", o.EndOfLife, c.endOfLife)
			}
			if o.OK() != (c.kind == OutcomeKernelInstalled || c.kind == OutcomeWorldInstalled || c.kind == OutcomeInstallDone || c.kind == OutcomeReadyToInstall || c.kind == OutcomeNoUpdatesNeeded) {
				t.Errorf("OK() = %v for %s", o.OK(), o.Kind)
			}
			if !strings.HasPrefix(o.Summary(), o.Kind.String()) {
				t.Errorf("Summary %q does not start with the kind", o.Summary())
			}
		})
	}
}

func TestClassifyEvidenceIsVerbatim(t *testing.T) {
	// Every evidence line is a line of the output, trimmed.
	for _, c := range outcomeCases {
		o := c.classify(t)
		stdout := c.stdout
		if c.fixture != "" {
			stdout = transcript.RunOf(t, c.fixture, c.command, c.n).Output
		}
		all := stdout + "\n" + c.stderr
		for _, e := range o.Evidence {
			if e == "" || !strings.Contains(all, e) {
				t.Errorf("%s: evidence %q is not a line of the output", c.name, e)
			}
		}
	}
}

func TestClassifyWarnings(t *testing.T) {
	out := "freebsd-update: WARNING: \"AllowAdd no\" is a bad idea when upgrading between releases.\n\n" +
		"WARNING: This system is running a \"gateway\" kernel, which is not a\nkernel configuration distributed as part of FreeBSD 15.0-RELEASE.\n" +
		"As part of upgrading to FreeBSD 15.0-RELEASE, this kernel will be\nreplaced with a \"generic\" kernel.\n" +
		"To install the downloaded upgrades, run 'freebsd-update [options] install'.\n"
	o := ClassifyFetch([]byte(out), nil, 0)
	if o.Kind != OutcomeReadyToInstall {
		t.Fatalf("Kind = %s", o.Kind)
	}
	if o.CustomKernel != "gateway" || o.CustomKernelNotUpdated {
		t.Errorf("CustomKernel = %q, NotUpdated = %v; want gateway, false", o.CustomKernel, o.CustomKernelNotUpdated)
	}
	if len(o.Warnings) != 2 {
		t.Errorf("Warnings = %q, want the AllowAdd and the kernel warning", o.Warnings)
	}
	eol := ClassifyFetch([]byte("No updates needed to update system to 14.1-RELEASE-p6.\n\nWARNING: FreeBSD 14.1-RELEASE-p6 is approaching its End-of-Life date.\nIt is strongly recommended that you upgrade to a newer\nrelease within the next 2 weeks.\n"), nil, 0)
	if eol.Kind != OutcomeNoUpdatesNeeded || eol.EndOfLife || len(eol.Warnings) != 1 {
		t.Errorf("approaching EOL: %+v", eol)
	}
}

func TestStallLine(t *testing.T) {
	stalls := []string{
		"The following file could not be merged automatically: /etc/pkg/FreeBSD.conf",
		"Merge conflict markers remain in: /etc/ssh/sshd_config",
		"Press Enter to edit this file in /usr/bin/ee and resolve the conflicts",
		"/usr/sbin/freebsd-update: cannot open /dev/tty: Device not configured",
	}
	for _, l := range stalls {
		if !StallLine(l) {
			t.Errorf("StallLine(%q) = false", l)
		}
	}
	for _, r := range transcript.Cut(t, fixtureMinor10) {
		for _, l := range strings.Split(r.Output, "\n") {
			if StallLine(l) {
				t.Errorf("StallLine(%q) = true in an unattended-safe run", l)
			}
		}
	}
	var stalled []string
	for _, l := range strings.Split(transcript.RunOf(t, fixtureMajor, "freebsd-update upgrade", 0).Output, "\n") {
		if StallLine(l) {
			stalled = append(stalled, l)
		}
	}
	if len(stalled) != 2 {
		t.Errorf("the 15.0 upgrade stalls on %q, want the conflict and its Enter prompt", stalled)
	}
}

func FuzzClassify(f *testing.F) {
	for _, c := range outcomeCases {
		stdout := c.stdout
		if c.fixture != "" {
			stdout = transcript.RunOf(f, c.fixture, c.command, c.n).Output
		}
		f.Add(stdout, c.stderr, c.exit)
	}
	f.Fuzz(func(t *testing.T, stdout, stderr string, exit int) {
		for _, o := range []Outcome{ClassifyFetch([]byte(stdout), []byte(stderr), exit), ClassifyInstall([]byte(stdout), []byte(stderr), exit)} {
			if o.Kind == 0 || strings.HasPrefix(o.Kind.String(), "OutcomeKind(") {
				t.Fatalf("no kind: %+v", o)
			}
			if o.OK() && exit != 0 && !o.EndOfLife {
				t.Fatalf("OK outcome %s with exit status %d", o.Kind, exit)
			}
			if len(o.LastLines) > lastLineCount {
				t.Fatalf("%d last lines", len(o.LastLines))
			}
		}
	})
}
