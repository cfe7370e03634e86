// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/zupgrade/zupgrade/host"
)

// WorkDir is freebsd-update's default working directory (WorkDir in
// freebsd-update.conf, -d on the command line).
const WorkDir = "/var/db/freebsd-update"

// RootBDHash is BDHash("/"): the name under which freebsd-update keeps the
// pending install and the rollback data of the system mounted at /.
const RootBDHash = "f465c3739385890c221dff1a05e578c6cae0d0430e46996d319db7439f884336"

// BDHash returns the name freebsd-update derives from a base directory
// (`echo ${BASEDIR} | sha256 -q`): the hex SHA-256 of the directory followed
// by a newline.
func BDHash(basedir string) string {
	sum := sha256.Sum256([]byte(basedir + "\n"))
	return hex.EncodeToString(sum[:])
}

// InstallLink returns the path of the <BDHASH>-install symbolic link in
// workdir for basedir. It exists exactly while an install is pending; it
// points at an install.XXXXXX directory holding INDEX-OLD, INDEX-NEW and the
// phase markers.
func InstallLink(workdir, basedir string) string {
	return path.Join(workdir, BDHash(basedir)+"-install")
}

// KernelInUpgradeCommand returns `grep -q -F -e /boot/kernel/kernel|
// LINK/INDEX-NEW`: exit 0 when the pending install holds a kernel, 1 when it
// holds none. An upgrade leaves the kernel out when the running kernel's
// configuration (uname -i) is not one FreeBSD distributes: freebsd-update.sh's
// upgrade_guess_components then warns "This kernel will not be updated" and
// drops the kernel component, while install #1 still installs the rest of
// /boot and asks for a reboot.
func KernelInUpgradeCommand(workdir, basedir string) []string {
	return []string{"grep", "-q", "-F", "-e", "/boot/kernel/kernel|", path.Join(InstallLink(workdir, basedir), "INDEX-NEW")}
}

// TagPath returns the path of the tag file in workdir: the signed metadata
// tag of the last successful fetch or upgrade.
func TagPath(workdir string) string { return path.Join(workdir, "tag") }

// The files freebsd-update keeps in the install directory.
const (
	markerKernelFirst = "kernelfirst"
	markerKernelDone  = "kerneldone"
	markerWorldDone   = "worlddone"
	indexOld          = "INDEX-OLD"
	indexNew          = "INDEX-NEW"
)

// InstallDir is what the pending install directory holds, as listed by
// `ls -1 <BDHASH>-install/`.
type InstallDir struct {
	// KernelFirst: the pending install came from `upgrade`; the kernel is
	// installed alone first and a reboot is asked for.
	KernelFirst bool
	// KernelDone: the kernel phase has been installed.
	KernelDone bool
	// WorldDone: the world phase has been installed; only old shared
	// libraries remain to be removed.
	WorldDone bool
	// IndexOld and IndexNew: the manifest files are present. Without both,
	// freebsd-update install refuses ("Update manifest is corrupt").
	IndexOld, IndexNew bool
	// Other lists any further names, in listing order.
	Other []string
}

// ListingCommand returns the command line zupgrade runs to list the install
// directory of basedir in workdir, for naming it in parse errors.
func ListingCommand(workdir, basedir string) []string {
	return []string{"ls", "-1", InstallLink(workdir, basedir) + "/"}
}

// ParseInstallDir parses the output of `ls -1 DIR/` for the pending install
// directory: one file name per line. command names the command line in
// errors.
func ParseInstallDir(command string, out []byte) (InstallDir, error) {
	var d InstallDir
	text := strings.TrimSuffix(string(out), "\n")
	if text == "" {
		return d, nil
	}
	for i, name := range strings.Split(text, "\n") {
		name = strings.TrimSuffix(name, "\r")
		switch {
		case name == "":
			return InstallDir{}, &host.ParseError{Command: command, Line: i + 1, Text: name, Reason: "empty line where a file name belongs"}
		case strings.Contains(name, "/"):
			return InstallDir{}, &host.ParseError{Command: command, Line: i + 1, Text: name, Reason: "a file name cannot contain '/'; this is not the output of ls -1 DIR/"}
		}
		switch name {
		case markerKernelFirst:
			d.KernelFirst = true
		case markerKernelDone:
			d.KernelDone = true
		case markerWorldDone:
			d.WorldDone = true
		case indexOld:
			d.IndexOld = true
		case indexNew:
			d.IndexNew = true
		default:
			d.Other = append(d.Other, name)
		}
	}
	return d, nil
}

// Phase is where a pending freebsd-update install stands.
type Phase int

// The phases, in the order an upgrade goes through them.
const (
	// PhaseNone: nothing is pending.
	PhaseNone Phase = iota + 1
	// PhaseUpdateFetched: a `fetch` left updates of the running release to
	// install; one install does everything.
	PhaseUpdateFetched
	// PhaseUpgradeFetched: an `upgrade` left a new release to install;
	// install #1 (the kernel) is next.
	PhaseUpgradeFetched
	// PhaseKernelInstalled: the kernel is installed (kerneldone); after a
	// reboot into it, install #2 (the world) is next.
	PhaseKernelInstalled
	// PhaseWorldInstalled: the world is installed (worlddone); after
	// third-party software is rebuilt, install #3 removes old libraries.
	PhaseWorldInstalled
)

func (p Phase) String() string {
	switch p {
	case PhaseNone:
		return "nothing pending"
	case PhaseUpdateFetched:
		return "updates fetched, install next"
	case PhaseUpgradeFetched:
		return "upgrade fetched, kernel install next"
	case PhaseKernelInstalled:
		return "kernel installed, world install next"
	case PhaseWorldInstalled:
		return "world installed, removal of old libraries next"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// ErrCorruptManifest reports a pending install without both INDEX-OLD and
// INDEX-NEW, which freebsd-update install refuses.
var ErrCorruptManifest = fmt.Errorf("the pending freebsd-update install lacks INDEX-OLD or INDEX-NEW (freebsd-update: \"Update manifest is corrupt\"); run freebsd-update fetch or upgrade again")

// PendingPhase derives the pending phase from whether an install is pending
// (see ParseUpdatesReady) and the listing of the install directory (ignored
// when nothing is pending).
func PendingPhase(pending bool, dir InstallDir) (Phase, error) {
	if !pending {
		return PhaseNone, nil
	}
	if !dir.IndexOld || !dir.IndexNew {
		return 0, ErrCorruptManifest
	}
	switch {
	case dir.WorldDone:
		return PhaseWorldInstalled, nil
	case dir.KernelDone:
		return PhaseKernelInstalled, nil
	case dir.KernelFirst:
		return PhaseUpgradeFetched, nil
	}
	return PhaseUpdateFetched, nil
}

// UpdatesReadyArgs is the argv of the probe `freebsd-update updatesready`.
var UpdatesReadyArgs = []string{"freebsd-update", "updatesready"}

// ErrNoUpdatesReadyCommand reports a freebsd-update too old to know the
// updatesready command (it prints its usage and exits 0); look at the
// install link instead.
var ErrNoUpdatesReadyCommand = fmt.Errorf("this freebsd-update has no updatesready command")

// ParseUpdatesReady interprets `freebsd-update updatesready`: exit 0 with
// "There are updates available to install." means an install is pending,
// exit 2 ("No updates are available to install.") means none. An old
// freebsd-update without the command prints its usage and exits 0; that is
// ErrNoUpdatesReadyCommand, never a guess.
func ParseUpdatesReady(stdout []byte, exitCode int) (bool, error) {
	const command = "freebsd-update updatesready"
	text := string(stdout)
	switch exitCode {
	case 0:
		if strings.Contains(text, "There are updates available to install.") {
			return true, nil
		}
		if strings.Contains(text, "usage: ") {
			return false, ErrNoUpdatesReadyCommand
		}
		return false, &host.ParseError{Command: command, Reason: "exit status 0 without \"There are updates available to install.\""}
	case 2:
		return false, nil
	}
	return false, fmt.Errorf("%s: exit status %d: %s", command, exitCode, strings.TrimSpace(lastLines(text, 3)))
}

// TagCommand is the command line that reads the tag file, for naming it in
// parse errors.
const TagCommand = "cat " + WorkDir + "/tag"

// Tag is freebsd-update's record of the signed metadata it fetched last
// (freebsd-update|ARCH|RELNUM|PATCHNUM|TINDEXHASH|EOLTIME): which release
// and patch level the fetched updates are for.
type Tag struct {
	// Arch is the machine (uname -m), e.g. amd64.
	Arch string
	// Release is the release with its patch level, e.g. 14.2-RELEASE-p1.
	Release Release
	// IndexHash is the SHA-256 of the metadata index.
	IndexHash string
	// EndOfLife is when the release stops receiving updates.
	EndOfLife time.Time
}

// ParseTag parses the content of the tag file: one line of six fields
// separated by '|'.
func ParseTag(out []byte) (Tag, error) {
	text := strings.TrimSuffix(string(out), "\n")
	fail := func(reason string) (Tag, error) {
		return Tag{}, &host.ParseError{Command: TagCommand, Line: 1, Text: text, Reason: reason}
	}
	if strings.TrimSpace(text) == "" {
		return Tag{}, &host.ParseError{Command: TagCommand, Reason: "empty tag file"}
	}
	if strings.Contains(text, "\n") {
		return fail("the tag is one line")
	}
	f := strings.Split(strings.TrimSpace(text), "|")
	if len(f) != 6 {
		return fail(fmt.Sprintf("%d fields, want 6: freebsd-update|ARCH|RELNUM|PATCHNUM|TINDEXHASH|EOLTIME", len(f)))
	}
	if f[0] != "freebsd-update" {
		return fail("the first field is not freebsd-update")
	}
	var t Tag
	if !isWord(f[1]) {
		return fail(fmt.Sprintf("bad architecture %q", f[1]))
	}
	t.Arch = f[1]
	r, err := ParseRelease(f[2])
	if err != nil {
		return fail(err.Error())
	}
	if r.Patch != 0 {
		return fail("the release field carries no patch level; it is the next field")
	}
	patch, err := parseCount(f[3], 4)
	if err != nil {
		return fail(fmt.Sprintf("bad patch number %q", f[3]))
	}
	r.Patch = patch
	t.Release = r
	if len(f[4]) != 64 || !isLowerHex(f[4]) {
		return fail(fmt.Sprintf("bad index hash %q", f[4]))
	}
	t.IndexHash = f[4]
	if len(f[5]) != 10 || !isDigits(f[5]) {
		return fail(fmt.Sprintf("bad end-of-life time %q (want 10 digits of Unix time)", f[5]))
	}
	eol, _ := strconv.ParseInt(f[5], 10, 64)
	t.EndOfLife = time.Unix(eol, 0).UTC()
	return t, nil
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// lastLines returns the last n non-blank lines of text.
func lastLines(text string, n int) string {
	var keep []string
	lines := strings.Split(text, "\n")
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			keep = append([]string{l}, keep...)
		}
	}
	return strings.Join(keep, " / ")
}
