// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"fmt"
	"strings"
)

// OutcomeKind is what a run of freebsd-update achieved or why it stopped.
type OutcomeKind int

// The outcomes of install.
const (
	// OutcomeKernelInstalled: install #1 of an upgrade put the new kernel
	// in place; reboot into it, then install again.
	OutcomeKernelInstalled OutcomeKind = iota + 1
	// OutcomeWorldInstalled: install #2 put the new world in place but
	// left the old shared libraries; upgrade third-party software, then
	// install again.
	OutcomeWorldInstalled
	// OutcomeInstallDone: the last pending phase is installed.
	OutcomeInstallDone
	// OutcomeNothingToInstall: no install was pending (exit 2).
	OutcomeNothingToInstall
	// OutcomeNotRoot: install needs root.
	OutcomeNotRoot
	// OutcomeSecurelevel: kern.securelevel > 0 forbids installing.
	OutcomeSecurelevel
	// OutcomeCorruptManifest: the pending install lacks its manifest or
	// files; fetch or upgrade again.
	OutcomeCorruptManifest
	// OutcomeBootEnvFailed: CreateBootEnv could not create the boot
	// environment and install stopped before changing anything.
	OutcomeBootEnvFailed
)

// The outcomes of fetch and upgrade.
const (
	// OutcomeReadyToInstall: updates or an upgrade were fetched and wait
	// for install.
	OutcomeReadyToInstall OutcomeKind = iota + 100
	// OutcomeNoUpdatesNeeded: the system already runs the newest patch
	// level.
	OutcomeNoUpdatesNeeded
	// OutcomeMergeConflict: local changes to configuration files could not
	// be merged; the files are in Outcome.Files.
	OutcomeMergeConflict
	// OutcomeNeedsTerminal: freebsd-update wanted to ask on /dev/tty (to
	// review merged files) and there was no terminal.
	OutcomeNeedsTerminal
	// OutcomeIntegrityCheck: signed metadata failed freebsd-update's
	// integrity check ("Cowardly refusing to proceed any further"); on old
	// scripts see the metadata-path quirk.
	OutcomeIntegrityCheck
	// OutcomeTagSanity: the mirror offered metadata older than what runs
	// or was seen before ("Cowardly refusing to proceed any further").
	OutcomeTagSanity
	// OutcomePartialUpgradePending: fetch refused because an upgrade is
	// half installed; install it first.
	OutcomePartialUpgradePending
	// OutcomeNotARelease: the running system is not a RELEASE, RC, BETA or
	// ALPHA build.
	OutcomeNotARelease
	// OutcomeUpgradeToItself: the target is the running release.
	OutcomeUpgradeToItself
	// OutcomeNoMirrors: no update mirror answered (network, or an
	// unsupported platform or release).
	OutcomeNoMirrors
)

// Outcomes any command can end in.
const (
	// OutcomePkgbase: the host uses packaged base; freebsd-update refuses.
	OutcomePkgbase OutcomeKind = iota + 200
	// OutcomeNonInteractive: fetch refused to run without a terminal
	// (--not-running-from-cron was missing).
	OutcomeNonInteractive
	// OutcomeUnknownError: a failure this package does not recognise; see
	// Outcome.LastLines.
	OutcomeUnknownError
	// OutcomeUnrecognized: exit status 0, but nothing in the output proves
	// what happened.
	OutcomeUnrecognized
)

var outcomeNames = map[OutcomeKind]string{
	OutcomeKernelInstalled:       "kernel installed, reboot needed",
	OutcomeWorldInstalled:        "world installed, old libraries left",
	OutcomeInstallDone:           "install done",
	OutcomeNothingToInstall:      "nothing to install",
	OutcomeNotRoot:               "not root",
	OutcomeSecurelevel:           "securelevel too high",
	OutcomeCorruptManifest:       "corrupt update manifest",
	OutcomeBootEnvFailed:         "boot environment snapshot failed",
	OutcomeReadyToInstall:        "ready to install",
	OutcomeNoUpdatesNeeded:       "no updates needed",
	OutcomeMergeConflict:         "merge conflict",
	OutcomeNeedsTerminal:         "needs a terminal",
	OutcomeIntegrityCheck:        "metadata integrity check failed",
	OutcomeTagSanity:             "mirror metadata older than the system",
	OutcomePartialUpgradePending: "partially completed upgrade pending",
	OutcomeNotARelease:           "not running a release",
	OutcomeUpgradeToItself:       "upgrade to itself",
	OutcomeNoMirrors:             "no mirrors",
	OutcomePkgbase:               "packaged base",
	OutcomeNonInteractive:        "refused to run non-interactively",
	OutcomeUnknownError:          "unknown error",
	OutcomeUnrecognized:          "unrecognized output",
}

func (k OutcomeKind) String() string {
	if s, ok := outcomeNames[k]; ok {
		return s
	}
	return fmt.Sprintf("OutcomeKind(%d)", int(k))
}

// Outcome is the classified result of one freebsd-update run.
type Outcome struct {
	Kind     OutcomeKind
	ExitCode int
	// Evidence holds the output lines that prove Kind, verbatim but for
	// surrounding white space.
	Evidence []string
	// Files lists, for OutcomeMergeConflict, every file named as not
	// merged or still holding conflict markers, in order, once each.
	Files []string
	// Release is, for OutcomeReadyToInstall and OutcomeNoUpdatesNeeded,
	// the release with patch level the fetched updates lead to, when the
	// output names it; for OutcomeNotARelease and OutcomeUpgradeToItself,
	// the release freebsd-update found running.
	Release Release
	// BootEnvCreated: install made a boot environment first ("Creating
	// snapshot of existing boot environment... done.").
	BootEnvCreated bool
	// CustomKernel is the kernel configuration named by the warning that
	// the running kernel is not one FreeBSD distributes, e.g. "mykernel".
	CustomKernel string
	// CustomKernelNotUpdated: that warning said the kernel will not be
	// updated and must be updated by hand before installing.
	CustomKernelNotUpdated bool
	// CustomKernelReplaced: that warning said the kernel will be replaced
	// with GENERIC (upgrade_guess_new_kernel, which then asks).
	CustomKernelReplaced bool
	// EndOfLife: the running release has passed its end of life. fetch
	// then exits 1 even when it fetched updates.
	EndOfLife bool
	// Warnings holds further warning lines worth showing an admin.
	Warnings []string
	// LastLines holds the last non-blank output lines, for reports.
	LastLines []string
}

// OK reports whether the run achieved what was asked: an install phase done,
// or updates fetched or not needed.
func (o Outcome) OK() bool {
	switch o.Kind {
	case OutcomeKernelInstalled, OutcomeWorldInstalled, OutcomeInstallDone,
		OutcomeReadyToInstall, OutcomeNoUpdatesNeeded:
		return true
	}
	return false
}

// Summary returns one line for logs and error messages: the kind and the
// proof, or the last lines when nothing is proven.
func (o Outcome) Summary() string {
	var b strings.Builder
	b.WriteString(o.Kind.String())
	if len(o.Files) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(o.Files, ", "))
	}
	proof := o.Evidence
	if len(proof) == 0 {
		proof = o.LastLines
	}
	if len(proof) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(proof, " / "))
	}
	return b.String()
}

// Messages freebsd-update prints, as in usr.sbin/freebsd-update/freebsd-update.sh.
const (
	msgPkgbase          = "freebsd-update is incompatible with the use of packaged base"
	msgNonInteractive   = "should not be run non-interactively"
	msgNotRoot          = "You must be root to run this."
	msgSecurelevel      = "Updates cannot be installed when the system securelevel"
	msgNothingPending   = "No updates are available to install."
	msgCorruptManifest  = "Update manifest is corrupt"
	msgFilesMissing     = "Update files missing"
	msgBootEnv          = "Creating snapshot of existing boot environment..."
	msgInstalling       = "Installing updates..."
	msgKernelInstalled  = "Kernel updates have been installed."
	msgOldLibraries     = "Completing this upgrade requires removing old shared object files."
	msgPartialPending   = "You have a partially completed upgrade pending"
	msgNotARelease      = "Cannot upgrade from a version that is not a release"
	msgCurrentlyRunning = "Currently running:"
	msgNoMirrors        = "No mirrors remaining, giving up."
	msgFilesOnMirror    = "Files on mirror ("
	msgCowardly         = "Cowardly refusing to proceed any further."
	msgSignedBut        = "is correctly signed, but"
	msgIntegrity        = "failed an integrity check"
	msgNotMerged        = "The following file could not be merged automatically: "
	msgMarkersRemain    = "Merge conflict markers remain in: "
	msgNoUpdatesNeeded  = "No updates needed to update system to "
	msgToInstall        = "To install the downloaded upgrades, run"
	msgFilesWillBe      = "The following files will be "
	msgAsPartOf         = " as part of updating to"
	msgCustomKernel     = "WARNING: This system is running a \""
	msgKernelNotUpdated = "This kernel will not be updated"
	msgKernelReplaced   = "replaced with a \"generic\" kernel."
	msgEOLPassed        = "HAS PASSED ITS END-OF-LIFE DATE"
	msgEOLApproaching   = "is approaching its End-of-Life date"
	msgBadIdea          = "is a bad idea when upgrading between releases"
	msgKmods            = "The following modules have been installed from packages."
)

// output is the lines of one run, standard output first, then standard
// error, each trimmed of surrounding white space.
type output struct {
	lines []string
}

func newOutput(stdout, stderr []byte) output {
	var o output
	for _, b := range [][]byte{stdout, stderr} {
		text := strings.ReplaceAll(string(b), "\r", "")
		for _, l := range strings.Split(text, "\n") {
			o.lines = append(o.lines, strings.TrimSpace(l))
		}
	}
	return o
}

// prove sets the outcome's kind, with the lines at the given indexes as its
// evidence, and returns it.
func (o output) prove(res *Outcome, k OutcomeKind, lines ...int) Outcome {
	res.Kind = k
	for _, i := range lines {
		res.Evidence = append(res.Evidence, o.line(i))
	}
	return *res
}

// find returns the index of the first line containing s, or -1.
func (o output) find(s string) int {
	for i, l := range o.lines {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

// line returns line i, or "" when i is out of range.
func (o output) line(i int) string {
	if i < 0 || i >= len(o.lines) {
		return ""
	}
	return o.lines[i]
}

// last returns the last n non-blank lines.
func (o output) last(n int) []string {
	var keep []string
	for i := len(o.lines) - 1; i >= 0 && len(keep) < n; i-- {
		if o.lines[i] != "" {
			keep = append([]string{o.lines[i]}, keep...)
		}
	}
	return keep
}

// lastLineCount is how many lines an Outcome keeps in LastLines.
const lastLineCount = 10

// ClassifyInstall classifies the output and exit status of
// `freebsd-update install`.
func ClassifyInstall(stdout, stderr []byte, exitCode int) Outcome {
	o := newOutput(stdout, stderr)
	res := o.common(exitCode)
	if res.Kind != 0 {
		return res
	}
	kind := func(k OutcomeKind, lines ...int) Outcome { return o.prove(&res, k, lines...) }
	if i := o.find(msgNotRoot); i >= 0 {
		return kind(OutcomeNotRoot, i)
	}
	if i := o.find(msgSecurelevel); i >= 0 {
		if strings.Contains(o.line(i+1), "greater than zero") {
			return kind(OutcomeSecurelevel, i, i+1)
		}
		return kind(OutcomeSecurelevel, i)
	}
	if i := o.find(msgNothingPending); i >= 0 {
		return kind(OutcomeNothingToInstall, i)
	}
	if i := o.find(msgCorruptManifest); i >= 0 {
		return kind(OutcomeCorruptManifest, i)
	}
	if i := o.find(msgFilesMissing); i >= 0 {
		return kind(OutcomeCorruptManifest, i)
	}
	if i := o.find(msgBootEnv); i >= 0 && strings.HasSuffix(o.line(i), "failed.") {
		return kind(OutcomeBootEnvFailed, i)
	}
	if exitCode == 0 {
		if i := o.find(msgKernelInstalled); i >= 0 {
			return kind(OutcomeKernelInstalled, i)
		}
		if i := o.find(msgOldLibraries); i >= 0 {
			return kind(OutcomeWorldInstalled, i)
		}
		// "Installing updates..." is followed by " done." on the same line,
		// or on a later one when certctl or sshd printed in between.
		if i := o.find(msgInstalling); i >= 0 {
			for j := i; j < len(o.lines); j++ {
				if strings.HasSuffix(o.lines[j], "done.") {
					if j == i {
						return kind(OutcomeInstallDone, i)
					}
					return kind(OutcomeInstallDone, i, j)
				}
			}
		}
	}
	return o.unknown(res)
}

// ClassifyFetch classifies the output and exit status of
// `freebsd-update fetch` and of `freebsd-update -r REL upgrade`.
func ClassifyFetch(stdout, stderr []byte, exitCode int) Outcome {
	o := newOutput(stdout, stderr)
	res := o.common(exitCode)
	if res.Kind != 0 {
		return res
	}
	kind := func(k OutcomeKind, lines ...int) Outcome { return o.prove(&res, k, lines...) }
	if i := o.find(msgPartialPending); i >= 0 {
		return kind(OutcomePartialUpgradePending, i)
	}
	if i := o.find(msgNotARelease); i >= 0 {
		res = kind(OutcomeNotARelease, i)
		if j := o.find(msgCurrentlyRunning); j >= 0 {
			res.Evidence = append(res.Evidence, o.line(j))
			_, rel, _ := strings.Cut(o.line(j), msgCurrentlyRunning)
			res.Release, _ = ParseRelease(rel)
		}
		return res
	}
	for i, l := range o.lines {
		if rel, ok := upgradeToItself(l); ok {
			res = kind(OutcomeUpgradeToItself, i)
			res.Release = rel
			return res
		}
	}
	if i := o.find(msgNoMirrors); i >= 0 {
		return kind(OutcomeNoMirrors, i)
	}
	if i := o.find(msgFilesOnMirror); i >= 0 {
		if j := o.find(msgCowardly); j > i {
			return kind(OutcomeTagSanity, i, i+1, j)
		}
	}
	if i := o.find(msgSignedBut); i >= 0 {
		switch {
		case strings.Contains(o.line(i), msgIntegrity):
			return kind(OutcomeIntegrityCheck, i)
		case strings.Contains(o.line(i+1), msgIntegrity):
			return kind(OutcomeIntegrityCheck, i, i+1)
		}
	}
	if res.Files, res.Evidence = o.mergeConflicts(); len(res.Files) > 0 {
		res.Kind = OutcomeMergeConflict
		return res
	}
	for i, l := range o.lines {
		if strings.Contains(l, "/dev/tty") && (strings.Contains(l, "cannot open") || strings.Contains(l, "not configured")) {
			return kind(OutcomeNeedsTerminal, i)
		}
	}
	// fetch exits 1 after fetching when the release has passed its end of
	// life (fetch_warn_eol); the updates are still there to install.
	if exitCode == 0 || res.EndOfLife {
		if i := o.find(msgNoUpdatesNeeded); i >= 0 {
			res = kind(OutcomeNoUpdatesNeeded, i)
			_, rel, _ := strings.Cut(o.line(i), msgNoUpdatesNeeded)
			res.Release, _ = ParseRelease(strings.TrimSuffix(rel, "."))
			return res
		}
		target := Release{}
		targetLine := -1
		for i, l := range o.lines {
			if strings.HasPrefix(l, msgFilesWillBe) && strings.HasSuffix(l, msgAsPartOf) {
				target, _ = ParseRelease(strings.TrimSuffix(o.line(i+1), ":"))
				targetLine = i
				break
			}
		}
		if i := o.find(msgToInstall); i >= 0 {
			res = kind(OutcomeReadyToInstall, i)
			res.Release = target
			return res
		}
		if targetLine >= 0 {
			res = kind(OutcomeReadyToInstall, targetLine, targetLine+1)
			res.Release = target
			return res
		}
	}
	return o.unknown(res)
}

// upgradeToItself recognises "Cannot upgrade from 14.2-RELEASE to itself".
func upgradeToItself(line string) (Release, bool) {
	_, rest, ok := strings.Cut(line, "Cannot upgrade from ")
	if !ok {
		return Release{}, false
	}
	name, ok := strings.CutSuffix(rest, " to itself")
	if !ok {
		return Release{}, false
	}
	r, err := ParseRelease(name)
	return r, err == nil
}

// mergeConflicts returns every file named by a merge-conflict message, once
// each in order of appearance, and the lines naming them.
func (o output) mergeConflicts() (files, evidence []string) {
	seen := map[string]bool{}
	for _, l := range o.lines {
		for _, prefix := range []string{msgNotMerged, msgMarkersRemain} {
			_, f, ok := strings.Cut(l, prefix)
			if !ok {
				continue
			}
			f = strings.TrimSpace(f)
			if !seen[l] {
				// Without a terminal the conflict message repeats for
				// ever; keep each line once.
				seen[l] = true
				evidence = append(evidence, l)
			}
			if f != "" && !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	return files, evidence
}

// common fills in what every run reports (exit code, warnings, the boot
// environment, last lines) and classifies the refusals any command can end
// in; Kind stays 0 when none applies.
func (o output) common(exitCode int) Outcome {
	res := Outcome{ExitCode: exitCode, LastLines: o.last(lastLineCount)}
	for i, l := range o.lines {
		switch {
		case strings.HasPrefix(l, msgBootEnv) && strings.HasSuffix(l, "done."):
			res.BootEnvCreated = true
		case strings.HasPrefix(l, msgCustomKernel):
			name, _, _ := strings.Cut(strings.TrimPrefix(l, msgCustomKernel), "\"")
			res.CustomKernel = name
			res.Warnings = append(res.Warnings, l)
		case strings.HasPrefix(l, msgKernelNotUpdated):
			res.CustomKernelNotUpdated = true
			res.Warnings = append(res.Warnings, l)
		case strings.HasPrefix(l, msgKernelReplaced):
			res.CustomKernelReplaced = true
		case strings.Contains(l, msgEOLPassed):
			res.EndOfLife = true
			res.Warnings = append(res.Warnings, l)
		case strings.Contains(l, msgEOLApproaching), strings.Contains(l, msgBadIdea):
			res.Warnings = append(res.Warnings, l)
		case strings.HasPrefix(l, msgKmods):
			res.Warnings = append(res.Warnings, l, o.line(i+1))
		}
	}
	if i := o.find(msgPkgbase); i >= 0 {
		res.Kind = OutcomePkgbase
		res.Evidence = []string{o.line(i)}
	} else if i := o.find(msgNonInteractive); i >= 0 {
		res.Kind = OutcomeNonInteractive
		res.Evidence = []string{o.line(i)}
	}
	return res
}

// unknown ends a classification that proved nothing.
func (o output) unknown(res Outcome) Outcome {
	res.Evidence = nil
	if res.ExitCode == 0 {
		res.Kind = OutcomeUnrecognized
	} else {
		res.Kind = OutcomeUnknownError
	}
	return res
}

// StallLine reports whether a line of freebsd-update's output shows that the
// run can no longer finish unattended: a merge conflict it wants resolved in
// an editor (with no terminal it then repeats "Merge conflict markers remain
// in" for ever), or a question it wants to ask on /dev/tty. Whoever streams
// the output should stop the process on such a line and classify what it
// printed so far with ClassifyFetch.
func StallLine(line string) bool {
	line = strings.TrimSpace(line)
	return strings.Contains(line, msgNotMerged) ||
		strings.Contains(line, msgMarkersRemain) ||
		strings.HasPrefix(line, "Press Enter to edit this file") ||
		(strings.Contains(line, "/dev/tty") && (strings.Contains(line, "cannot open") || strings.Contains(line, "not configured")))
}
