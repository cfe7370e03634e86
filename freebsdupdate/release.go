// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"fmt"
	"strconv"
	"strings"
)

// Branch is the part of a release name after the version number: RELEASE,
// RC2, BETA1, STABLE and so on. Its order is the order in which builds of one
// version number appear in the FreeBSD release cycle.
type Branch int

// The branches in release-cycle order. For one version number X.Y, head is
// X.0-CURRENT, a stable branch entering code slush is X.Y-PRERELEASE, the
// release engineering branch then builds ALPHA, BETA and RC builds and finally
// X.Y-RELEASE, and the stable branch after that release is X.Y-STABLE.
const (
	BranchCurrent Branch = iota + 1
	BranchPrerelease
	BranchAlpha
	BranchBeta
	BranchRC
	BranchRelease
	BranchStable
)

var branchNames = map[Branch]string{
	BranchCurrent:    "CURRENT",
	BranchPrerelease: "PRERELEASE",
	BranchAlpha:      "ALPHA",
	BranchBeta:       "BETA",
	BranchRC:         "RC",
	BranchRelease:    "RELEASE",
	BranchStable:     "STABLE",
}

// String returns the branch as FreeBSD spells it, without a stage number.
func (b Branch) String() string {
	if s, ok := branchNames[b]; ok {
		return s
	}
	return fmt.Sprintf("Branch(%d)", int(b))
}

// Staged reports whether builds of the branch carry a stage number
// (ALPHA1, BETA2, RC3).
func (b Branch) Staged() bool {
	return b == BranchAlpha || b == BranchBeta || b == BranchRC
}

// Upgradable reports whether freebsd-update publishes builds of the branch,
// and therefore whether a host can upgrade to it or from it with
// freebsd-update: RELEASE, RC, BETA and ALPHA builds only
// (fetchupgrade_check_params accepts *-RELEASE, *-ALPHA*, *-BETA*, *-RC*).
func (b Branch) Upgradable() bool {
	return b == BranchRelease || b.Staged()
}

// Release is a FreeBSD release name as printed by uname -r, freebsd-version
// and accepted by freebsd-update -r: MAJOR.MINOR-BRANCH[STAGE][-pPATCH].
// The zero Release means "unknown"; see IsZero.
type Release struct {
	Major int
	Minor int
	// Branch is RELEASE, RC, BETA, ...
	Branch Branch
	// Stage is the number after ALPHA, BETA or RC (2 in 15.0-BETA2); 0
	// when the branch has none or the name omitted it.
	Stage int
	// Patch is the patch level (3 in 14.2-RELEASE-p3); 0 when none.
	Patch int
}

// IsZero reports whether r is the zero Release.
func (r Release) IsZero() bool { return r == Release{} }

// String formats r as FreeBSD does, e.g. "14.2-RELEASE-p3" or "15.0-BETA2".
func (r Release) String() string {
	if r.IsZero() {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d.%d-%s", r.Major, r.Minor, r.Branch)
	if r.Stage > 0 {
		b.WriteString(strconv.Itoa(r.Stage))
	}
	if r.Patch > 0 {
		fmt.Fprintf(&b, "-p%d", r.Patch)
	}
	return b.String()
}

// Base returns r without its patch level: the name freebsd-update uses for
// the metadata of a release (RELNUM), e.g. 14.2-RELEASE for 14.2-RELEASE-p3.
func (r Release) Base() Release {
	r.Patch = 0
	return r
}

// Version returns "MAJOR.MINOR", e.g. "14.2".
func (r Release) Version() string { return fmt.Sprintf("%d.%d", r.Major, r.Minor) }

// ParseRelease parses a release name such as 14.2-RELEASE, 14.2-RELEASE-p3,
// 15.0-BETA2, 14.0-RC1, 15.0-CURRENT or 14.1-STABLE. Surrounding white space
// is ignored; anything else that does not follow the format is an error.
func ParseRelease(s string) (Release, error) {
	s = strings.TrimSpace(s)
	var r Release
	version, rest, ok := strings.Cut(s, "-")
	if !ok {
		return Release{}, fmt.Errorf("release %q: want MAJOR.MINOR-BRANCH, e.g. 14.2-RELEASE", s)
	}
	majorText, minorText, ok := strings.Cut(version, ".")
	if !ok {
		return Release{}, fmt.Errorf("release %q: version %q is not MAJOR.MINOR", s, version)
	}
	var err error
	if r.Major, err = parseCount(majorText, 3); err != nil || r.Major == 0 {
		return Release{}, fmt.Errorf("release %q: bad major version %q", s, majorText)
	}
	if r.Minor, err = parseCount(minorText, 3); err != nil {
		return Release{}, fmt.Errorf("release %q: bad minor version %q", s, minorText)
	}
	branchText, patchText, hasPatch := strings.Cut(rest, "-")
	if err := r.parseBranch(branchText); err != nil {
		return Release{}, fmt.Errorf("release %q: %v", s, err)
	}
	if hasPatch {
		digits, ok := strings.CutPrefix(patchText, "p")
		if !ok {
			return Release{}, fmt.Errorf("release %q: %q after the branch is not a patch level like p3", s, patchText)
		}
		// -p0 appears in freebsd-update's messages ("updating to
		// 15.0-RELEASE-p0"); it means no patch level.
		if r.Patch, err = parseCount(digits, 4); err != nil {
			return Release{}, fmt.Errorf("release %q: bad patch level %q", s, patchText)
		}
	}
	return r, nil
}

// MustParseRelease is ParseRelease for names known to be valid, such as
// constants in tests; it panics on an invalid name.
func MustParseRelease(s string) Release {
	r, err := ParseRelease(s)
	if err != nil {
		panic(err)
	}
	return r
}

func (r *Release) parseBranch(text string) error {
	for b, name := range branchNames {
		rest, ok := strings.CutPrefix(text, name)
		if !ok {
			continue
		}
		// No branch name is a prefix of another, so at most one name
		// matches; what follows it can only be a stage number.
		if rest == "" {
			r.Branch = b
			return nil
		}
		if !b.Staged() {
			break
		}
		stage, err := parseCount(rest, 3)
		if err != nil || stage == 0 {
			return fmt.Errorf("bad stage number %q after %s", rest, name)
		}
		r.Branch, r.Stage = b, stage
		return nil
	}
	return fmt.Errorf("unknown branch %q (want RELEASE, RCn, BETAn, ALPHAn, PRERELEASE, STABLE or CURRENT)", text)
}

// parseCount parses a decimal number of at most maxDigits digits, without
// sign or leading zeros.
func parseCount(s string, maxDigits int) (int, error) {
	if s == "" || len(s) > maxDigits {
		return 0, fmt.Errorf("bad number %q", s)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("bad number %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad number %q", s)
		}
	}
	return strconv.Atoi(s)
}

// Compare orders releases: by major, minor, branch (ALPHA < BETA < RC <
// RELEASE within one version), stage, then patch level. It returns -1, 0 or
// +1.
func Compare(a, b Release) int {
	for _, d := range [][2]int{
		{a.Major, b.Major},
		{a.Minor, b.Minor},
		{int(a.Branch), int(b.Branch)},
		{a.Stage, b.Stage},
		{a.Patch, b.Patch},
	} {
		switch {
		case d[0] < d[1]:
			return -1
		case d[0] > d[1]:
			return +1
		}
	}
	return 0
}

// Before reports whether r orders before other.
func (r Release) Before(other Release) bool { return Compare(r, other) < 0 }

// Move says what kind of change takes a host from one release to another.
type Move int

// The kinds of move, from none to the largest.
const (
	// MoveNone: the same release and patch level.
	MoveNone Move = iota + 1
	// MoveDowngrade: the target orders before the current release.
	MoveDowngrade
	// MovePatch: the same release, a newer patch level. freebsd-update
	// fetch and install do this; freebsd-update upgrade refuses it.
	MovePatch
	// MoveStage: the same version number, a later build of its cycle, e.g.
	// 15.0-BETA2 to 15.0-RC1 or 15.0-RC3 to 15.0-RELEASE.
	MoveStage
	// MoveMinor: the same major version, a newer minor version.
	MoveMinor
	// MoveMajor: a newer major version.
	MoveMajor
)

func (m Move) String() string {
	switch m {
	case MoveNone:
		return "none"
	case MoveDowngrade:
		return "downgrade"
	case MovePatch:
		return "patch"
	case MoveStage:
		return "stage"
	case MoveMinor:
		return "minor"
	case MoveMajor:
		return "major"
	}
	return fmt.Sprintf("Move(%d)", int(m))
}

// Classify says what kind of move leads from current to target.
func Classify(current, target Release) Move {
	switch c := Compare(current, target); {
	case c == 0:
		return MoveNone
	case c > 0:
		return MoveDowngrade
	case current.Major != target.Major:
		return MoveMajor
	case current.Minor != target.Minor:
		return MoveMinor
	case current.Base() != target.Base():
		return MoveStage
	}
	return MovePatch
}

// UpgradeError explains why a target is not a valid freebsd-update upgrade.
type UpgradeError struct {
	Current, Target Release
	// Reason is a full sentence; where freebsd-update prints its own
	// message for the case, the sentence quotes it.
	Reason string
}

func (e *UpgradeError) Error() string {
	return fmt.Sprintf("cannot upgrade from %s to %s: %s", e.Current, e.Target, e.Reason)
}

// CheckUpgrade decides whether `freebsd-update -r target upgrade` is a valid
// upgrade for a host running current (the running kernel's release, as
// uname -r prints it), and what kind of move it is: MoveStage, MoveMinor or
// MoveMajor. The rules are freebsd-update's own plus one of zupgrade's:
//   - the target names a release without patch level (freebsd-update fetches
//     the newest patch level of the target itself);
//   - the target is a RELEASE, RC, BETA or ALPHA build, the only builds
//     freebsd-update publishes;
//   - the current release is one too ("Cannot upgrade from a version that is
//     not a release");
//   - the target is not the current release without its patch level
//     ("Cannot upgrade from X to itself"); patches come from fetch/install;
//   - the target is newer (zupgrade never downgrades).
func CheckUpgrade(current, target Release) (Move, error) {
	fail := func(format string, args ...any) (Move, error) {
		return 0, &UpgradeError{Current: current, Target: target, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case current.IsZero() || target.IsZero():
		return fail("both releases must be known")
	case target.Patch != 0:
		return fail("the target of an upgrade is a release without patch level (freebsd-update installs its newest patches itself): use %s", target.Base())
	case !target.Branch.Upgradable():
		return fail("freebsd-update only publishes RELEASE, RC, BETA and ALPHA builds, not %s", target.Branch)
	case !current.Branch.Upgradable():
		return fail("freebsd-update refuses: \"Cannot upgrade from a version that is not a release (including alpha, beta and release candidates)\"; currently running %s", current)
	case current.Base() == target:
		return fail("freebsd-update refuses: \"Cannot upgrade from %s to itself\"; patch levels come from fetch and install", current.Base())
	case target.Before(current):
		return fail("%s is older than the running %s and zupgrade does not downgrade", target, current)
	}
	return Classify(current, target), nil
}
