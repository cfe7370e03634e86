// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"fmt"
	"path"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// Command is one invocation of a program as the host package runs it: its
// argv (never a shell line), the KEY=VALUE pairs added to its environment,
// and what is fed to its standard input.
type Command = host.Command

// Program is the name freebsd-update is run by (found in PATH).
const Program = "freebsd-update"

// notFromCron lets fetch and upgrade run without a controlling terminal;
// without it `fetch` refuses ("fetch should not be run non-interactively").
const notFromCron = "--not-running-from-cron"

// batchEnv is the environment of every fetch, upgrade and install:
//   - PAGER=cat: the lists of files removed, added and updated go to the
//     output instead of through less(1), which would wait for a key;
//   - EDITOR=/usr/bin/false: no editor ever takes over a terminal for a
//     merge conflict; the conflict shows in the output (ClassifyFetch).
//
// freebsd-update reads merge decisions from /dev/tty, not from standard
// input: upgrade and fetch run on a pseudo-terminal answered by Dialog.
var batchEnv = []string{"PAGER=cat", "EDITOR=/usr/bin/false"}

// Script is what zupgrade knows of the installed freebsd-update script that
// changes how it is invoked. The zero Script is today's freebsd-update.
type Script struct {
	// NoCronOption: the script predates --not-running-from-cron (errata
	// EN-15:04, in releases from 10.2 on); it rejects the option. Its
	// upgrade and install run without a terminal, but its fetch refuses to
	// ("fetch should not be run non-interactively") with no way around.
	NoCronOption bool
	// BaseDir, when set, is the tree freebsd-update works on instead of
	// / (-b; a mounted boot environment), with its pending state in
	// BaseDir/var/db/freebsd-update (-d), so that it is the boot
	// environment's own; CurrentlyRunning (--currently-running) is the
	// release installed in that tree, which the script then uses instead
	// of uname -r (freebsd-update.sh config_SourceRelease).
	BaseDir          string
	CurrentlyRunning string
}

// StagedWorkDir is freebsd-update's working directory (-d) for the tree
// at basedir: the tree's own /var/db/freebsd-update.
func StagedWorkDir(basedir string) string { return path.Join(basedir, WorkDir) }

// args returns the argv of a freebsd-update invocation with the operands
// given, with --not-running-from-cron when the script knows it.
func (s Script) args(operands ...string) []string {
	a := []string{Program}
	if !s.NoCronOption {
		a = append(a, notFromCron)
	}
	if s.BaseDir != "" {
		a = append(a, "-b", s.BaseDir, "-d", StagedWorkDir(s.BaseDir))
	}
	if s.CurrentlyRunning != "" {
		a = append(a, "--currently-running", s.CurrentlyRunning)
	}
	return append(a, operands...)
}

// UpgradeCommand returns `freebsd-update --not-running-from-cron -r TARGET
// upgrade` with its environment and answers. The target must be a valid
// upgrade target name (see CheckUpgrade); only its form is checked here.
func (s Script) UpgradeCommand(target Release) (Command, error) {
	if target.IsZero() || target.Patch != 0 || !target.Branch.Upgradable() {
		return Command{}, fmt.Errorf("freebsd-update cannot upgrade to %q: want a RELEASE, RC, BETA or ALPHA name without patch level", target.String())
	}
	return Command{
		Args:   s.args("-r", target.String(), "upgrade"),
		Env:    append([]string(nil), batchEnv...),
		Dialog: Dialog,
	}, nil
}

// FetchCommand returns `freebsd-update --not-running-from-cron fetch`: fetch
// the patches of the running release.
func (s Script) FetchCommand() Command {
	return Command{Args: s.args("fetch"), Env: append([]string(nil), batchEnv...), Dialog: Dialog}
}

// Dialog answers freebsd-update on its terminal. upgrade asks "Does this
// look reasonable (y/n)?" about the components it found on standard input,
// and about every configuration file it merged on /dev/tty; fetch of scripts
// older than --not-running-from-cron refuses to run without a terminal. The
// answer is always yes; a file it could not merge (it would open an editor)
// stops it, so that the admin resolves the conflict.
func Dialog(screen string) (answer string, stop bool) {
	for _, line := range strings.Split(screen, "\n") {
		if StallLine(strings.TrimRight(line, "\r")) {
			return "", true
		}
	}
	if strings.HasSuffix(strings.TrimRight(screen, " "), "(y/n)?") {
		return "y\n", false
	}
	return "", false
}

// UpgradeDialog is Dialog for an upgrade, but for one question:
// freebsd-update's offer to replace a kernel configuration the new release
// no longer distributes with GENERIC (upgrade_guess_new_kernel) is accepted
// only when acceptGeneric says the admin agreed; otherwise it is declined and
// freebsd-update stops, having installed nothing.
func UpgradeDialog(acceptGeneric bool) host.Dialog {
	return func(screen string) (string, bool) {
		answer, stop := Dialog(screen)
		if answer != "" && !acceptGeneric && strings.Contains(screen, msgKernelReplaced) {
			return "n\n", false
		}
		return answer, stop
	}
}

// InstallCommand returns `freebsd-update --not-running-from-cron install`:
// install the next phase of what is pending. (install does not need the
// flag; it is passed so that every run is marked as automated alike.)
func (s Script) InstallCommand() Command {
	return Command{Args: s.args("install"), Env: append([]string(nil), batchEnv...)}
}

// FetchCommand is Script{}.FetchCommand: today's freebsd-update.
func FetchCommand() Command { return Script{}.FetchCommand() }

// InstallCommand is Script{}.InstallCommand: today's freebsd-update.
func InstallCommand() Command { return Script{}.InstallCommand() }

// UpdatesReadyArgs is the argv of the probe `freebsd-update updatesready`
// for the script's tree.
func (s Script) UpdatesReadyArgs() []string { return s.args("updatesready") }
