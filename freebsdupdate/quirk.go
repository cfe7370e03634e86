// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"fmt"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// ScriptPath is where freebsd-update is installed.
const ScriptPath = "/usr/sbin/freebsd-update"

// metadataPatternMarker and libsysMarker are the fixed strings the quirk
// probe greps for.
const (
	metadataPatternMarker = `P="[`
	libsysMarker          = "libsys"
	// cronOptionMarker finds the option's handling and usage lines.
	cronOptionMarker = notFromCron
)

// QuirkProbeCommand returns the read-only probe that finds every known
// quirk, and whether the script knows --not-running-from-cron, in one
// process: `grep -n -F -e P="[ -e libsys -e --not-running-from-cron
// /usr/sbin/freebsd-update` (matching lines with their numbers; exit 1 when
// nothing matches).
func QuirkProbeCommand() Command {
	return Command{Args: []string{"grep", "-n", "-F", "-e", metadataPatternMarker, "-e", libsysMarker, "-e", cronOptionMarker, ScriptPath}}
}

// ScriptOf says how to invoke the freebsd-update whose probe lines these
// are: without --not-running-from-cron when no line mentions it.
func ScriptOf(lines []ProbeLine) Script {
	for _, l := range lines {
		if strings.Contains(l.Text, cronOptionMarker) {
			return Script{}
		}
	}
	return Script{NoCronOption: true}
}

// quirkProbeLine names the probe in parse errors as captures name it.
var quirkProbeLine = QuirkProbeCommand().Line()

// ProbeLine is one line printed by grep -n: a line of the script and its
// number.
type ProbeLine struct {
	Number int
	Text   string
}

// ParseQuirkProbe parses the output of the quirk probe. grep exits 0 when it
// printed matches and 1 when nothing matched; any other status (the script
// is missing or unreadable) is an error.
func ParseQuirkProbe(out []byte, exitCode int) ([]ProbeLine, error) {
	switch exitCode {
	case 0, 1:
	default:
		return nil, fmt.Errorf("%s: exit status %d", quirkProbeLine, exitCode)
	}
	text := strings.TrimSuffix(string(out), "\n")
	if text == "" {
		if exitCode == 0 {
			return nil, &host.ParseError{Command: quirkProbeLine, Reason: "exit status 0 (matches found) but no output"}
		}
		return nil, nil
	}
	if exitCode == 1 {
		return nil, &host.ParseError{Command: quirkProbeLine, Reason: "exit status 1 (no match) but output was printed"}
	}
	var lines []ProbeLine
	for i, l := range strings.Split(text, "\n") {
		num, rest, ok := strings.Cut(l, ":")
		n, err := parseCount(num, 6)
		if !ok || err != nil || n == 0 {
			return nil, &host.ParseError{Command: quirkProbeLine, Line: i + 1, Text: l, Reason: "want LINENUMBER:TEXT"}
		}
		if !strings.Contains(rest, metadataPatternMarker) && !strings.Contains(rest, libsysMarker) && !strings.Contains(rest, cronOptionMarker) {
			return nil, &host.ParseError{Command: quirkProbeLine, Line: i + 1, Text: l, Reason: "the line matches neither pattern of the probe"}
		}
		lines = append(lines, ProbeLine{Number: n, Text: rest})
	}
	return lines, nil
}

// QuirkID names a known freebsd-update defect.
type QuirkID string

// The known quirks.
const (
	// QuirkMetadataPath: freebsd-update scripts of the 8.x era check paths
	// in signed metadata against P="[-+./:=_[[:alnum:]]", which lacks '%'
	// and '@'; metadata of 9.0 and later has such paths, so fetch and
	// upgrade fail with "The update metadata is correctly signed, but
	// failed an integrity check".
	QuirkMetadataPath QuirkID = "metadata-path-pattern"
	// QuirkLibsysOrder: before errata EN-25:18 freebsd-update did not
	// install libsys before libc and libthr, and an upgrade from 14.x to
	// 15.0 could leave the system inoperative (FreeBSD bug 289769).
	QuirkLibsysOrder QuirkID = "libsys-install-order"
)

// QuirkState says whether a quirk affects the host.
type QuirkState int

// The states of a quirk.
const (
	// QuirkAbsent: the host is not affected (fixed script, or a run that
	// the defect cannot hurt).
	QuirkAbsent QuirkState = iota + 1
	// QuirkPresent: the host is affected; Fix says what to run.
	QuirkPresent
	// QuirkUnknown: the script matches no known version; a human must look.
	QuirkUnknown
)

func (s QuirkState) String() string {
	switch s {
	case QuirkAbsent:
		return "absent"
	case QuirkPresent:
		return "present"
	case QuirkUnknown:
		return "unknown"
	}
	return fmt.Sprintf("QuirkState(%d)", int(s))
}

// Quirk is a known freebsd-update defect as found on one host.
type Quirk struct {
	ID    QuirkID
	Title string
	State QuirkState
	// Detail says, in a sentence or two, what the probe showed and what
	// follows from it.
	Detail string
	// Evidence holds the probe lines the decision rests on.
	Evidence []ProbeLine
	// Fix holds the commands that remove the quirk, in order; empty unless
	// State is QuirkPresent.
	Fix []Command
	// Verify says how to check, after Fix, that the quirk is gone.
	Verify string
}

// QuirkContext is what quirk detection needs besides the probe output.
type QuirkContext struct {
	// Current is the running release.
	Current Release
	// Target is the release being upgraded to; zero for a patch run.
	Target Release
	// BackupPath is where the original script is copied before it is
	// patched, e.g. /var/db/zupgrade/backup/freebsd-update.orig.
	BackupPath string
}

// The pattern of today's scripts and the one of 8.x-era scripts.
const (
	currentMetadataPattern = `[-+./:=,%@_[~[:alnum:]]`
	oldMetadataPattern     = `[-+./:=_[[:alnum:]]`
)

// metadataPathSed is the sed expression that adds % and @ to the old
// pattern; it matches nothing once applied, so running it twice is harmless.
const metadataPathSed = "s/=_/=%@_/"

var verifyByProbe = "Run the quirk probe again (" + quirkProbeLine + ") and detect again: the quirk must be absent."

// DetectQuirks decides every known quirk from the probe lines.
func DetectQuirks(lines []ProbeLine, ctx QuirkContext) []Quirk {
	return []Quirk{detectMetadataPath(lines, ctx), detectLibsysOrder(lines, ctx)}
}

// QuirkResolved reports whether the quirk id is absent from a detection made
// after its fix ran.
func QuirkResolved(id QuirkID, after []Quirk) bool {
	for _, q := range after {
		if q.ID == id {
			return q.State == QuirkAbsent
		}
	}
	return false
}

func detectMetadataPath(lines []ProbeLine, ctx QuirkContext) Quirk {
	q := Quirk{
		ID:     QuirkMetadataPath,
		Title:  "freebsd-update rejects metadata paths holding '%' or '@' (8.x-era integrity-check failure)",
		Verify: verifyByProbe + " The P= line must then allow % and @.",
	}
	var patterns []string
	for _, l := range lines {
		_, rest, ok := strings.Cut(l.Text, `P="`)
		if !ok {
			continue
		}
		pattern, _, closed := strings.Cut(rest, `"`)
		if !closed {
			continue
		}
		q.Evidence = append(q.Evidence, l)
		patterns = append(patterns, pattern)
	}
	switch {
	case len(patterns) == 0:
		q.State = QuirkUnknown
		q.Detail = "No P=\"[...]\" line was found in " + ScriptPath + "; it differs from every known version of freebsd-update."
	case len(patterns) > 1:
		q.State = QuirkUnknown
		q.Detail = fmt.Sprintf("%d P=\"[...]\" lines were found in %s; every known version has one.", len(patterns), ScriptPath)
	case strings.Contains(patterns[0], "%") && strings.Contains(patterns[0], "@"):
		q.State = QuirkAbsent
		q.Detail = fmt.Sprintf("The metadata path pattern %s already allows %% and @.", patterns[0])
		if patterns[0] != currentMetadataPattern {
			q.Detail += " (Today's scripts use " + currentMetadataPattern + ".)"
		}
	case strings.Contains(q.Evidence[0].Text, "=_"):
		q.State = QuirkPresent
		q.Detail = fmt.Sprintf("The metadata path pattern %s lacks %% and @ (today: %s); fetching metadata of newer releases fails its integrity check. The fix adds them after a backup copy of the script.", patterns[0], currentMetadataPattern)
		if patterns[0] != oldMetadataPattern {
			q.Detail += " The pattern is not exactly the known 8.x one (" + oldMetadataPattern + "); check the patched line."
		}
		q.Fix = MetadataPathFix(ctx.BackupPath)
	default:
		q.State = QuirkUnknown
		q.Detail = fmt.Sprintf("The metadata path pattern %s lacks %% and @, but holds no \"=_\" for the known fix to act on; patch %s by hand.", patterns[0], ScriptPath)
	}
	return q
}

// MetadataPathFix returns the commands that patch the 8.x metadata path
// pattern: a copy of the script to backupPath keeping its mode and times,
// then sed editing the script in place with the expression s/=_/=%@_/. The
// argv is sed, -i, an empty argument (FreeBSD sed then keeps no backup of
// its own), -e, the expression and the script: no shell is involved.
func MetadataPathFix(backupPath string) []Command {
	return []Command{
		{Args: []string{"cp", "-p", ScriptPath, backupPath}},
		{Args: []string{"sed", "-i", "", "-e", metadataPathSed, ScriptPath}},
	}
}

func detectLibsysOrder(lines []ProbeLine, ctx QuirkContext) Quirk {
	q := Quirk{
		ID:     QuirkLibsysOrder,
		Title:  "freebsd-update installs libsys after libc (EN-25:18 missing), which can break a 14.x to 15 upgrade",
		Verify: verifyByProbe + " The script must then name libsys in its install order.",
	}
	for _, l := range lines {
		if strings.Contains(l.Text, libsysMarker) {
			q.Evidence = append(q.Evidence, l)
		}
	}
	crossesInto15 := !ctx.Target.IsZero() && ctx.Current.Major < 15 && ctx.Target.Major >= 15
	switch {
	case len(q.Evidence) > 0:
		q.State = QuirkAbsent
		q.Detail = "freebsd-update installs libsys before libc and libthr (EN-25:18 or later)."
	case !crossesInto15:
		q.State = QuirkAbsent
		q.Detail = "freebsd-update does not order libsys first, but only an upgrade from before 15 to 15 or later needs it."
	default:
		q.State = QuirkPresent
		q.Detail = fmt.Sprintf("freebsd-update on %s does not install libsys before libc and libthr; upgrading to %s that way can leave the system inoperative. Install the errata of the running release first (freebsd-update fetch, then install); a release with no such errata published must first be upgraded to a 14.x release that has it.", ctx.Current, ctx.Target)
		q.Fix = []Command{FetchCommand(), InstallCommand()}
	}
	return q
}

// LibsysErrataBranches are the release branches that received EN-25:18 as
// a patch (announced 2025-09-30 for the releases supported then that had
// patches to come): a host on one of them gets the fix from fetch and
// install. 14.1 and 14.2 reached their end of life without it, and older
// branches were long past theirs; 15.0 and later ship the fix.
var LibsysErrataBranches = []Release{MustParseRelease("13.5-RELEASE"), MustParseRelease("14.3-RELEASE")}

// LibsysErrataRelease says how a host at r whose freebsd-update lacks
// EN-25:18 gets it: from patches of its own release when its branch
// received the errata (patches is true), else by first upgrading to 14.3,
// the newest branch that did.
func LibsysErrataRelease(r Release) (rel Release, patches bool) {
	for _, b := range LibsysErrataBranches {
		if b.Major == r.Major && b.Minor == r.Minor {
			return b, true
		}
	}
	return LibsysErrataBranches[len(LibsysErrataBranches)-1], false
}
