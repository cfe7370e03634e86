// SPDX-License-Identifier: BSD-2-Clause

package pkgng

import (
	"fmt"

	"github.com/zupgrade/zupgrade/host"
)

// Command is one invocation of a program as the host package runs it: its
// argv (never a shell line), the KEY=VALUE pairs added to its environment,
// and what is fed to its standard input.
type Command = host.Command

// batchEnv answers pkg's questions ahead of time, deliberately:
//   - ASSUME_ALWAYS_YES=yes: every "Proceed with this action? [y/N]" is
//     yes, as -y does for the command itself, also where pkg runs pkg;
//   - IGNORE_OSVERSION=yes: after the base system moved to a new release,
//     packages (pkg itself first) are built for an OSVERSION other than
//     the running one, and pkg asks "Ignore the mismatch and continue?
//     [y/N]" even with -y, which stalls an unattended run.
var batchEnv = []string{"ASSUME_ALWAYS_YES=yes", "IGNORE_OSVERSION=yes"}

func env(extra ...string) []string {
	return append(append([]string(nil), batchEnv...), extra...)
}

// BootstrapCommand returns `pkg-static bootstrap -f`: reinstall pkg
// itself for the new ABI. pkg-static runs even when the new base system no
// longer has the libraries the dynamic pkg was linked against. It is the
// form every pkg accepts: before 1.21.0 pkg(8) knows only `bootstrap` and
// `bootstrap -f` ("pkg: unknown command: bootstrap" for `-f -y`), and the
// pkg(7) of releases before 12.3 forces only on exactly `bootstrap -f`;
// ASSUME_ALWAYS_YES answers pkg(7)'s question instead of -y.
func BootstrapCommand() Command {
	return Command{Args: []string{"pkg-static", "bootstrap", "-f"}, Env: env()}
}

// CompatPackage names misc/compatNNx, the shared objects of FreeBSD major
// for programs built on it, as the repositories of later releases carry it.
func CompatPackage(major int) string { return fmt.Sprintf("misc/compat%dx", major) }

// CompatInstallCommand returns `pkg-static install -y misc/compatNNx`.
func CompatInstallCommand(major int) Command {
	return Command{Args: []string{"pkg-static", "install", "-y", CompatPackage(major)}, Env: env()}
}

// UpgradeCommand returns `pkg-static upgrade -f -y`: reinstall every
// package from the repository of the new ABI.
func UpgradeCommand() Command {
	return Command{Args: []string{"pkg-static", "upgrade", "-f", "-y"}, Env: env()}
}

// UpgradeCommandIn returns `pkg-static -c CHROOT upgrade -f -y`: the same
// reinstall inside the tree at chroot (a mounted boot environment), with
// that tree's package database, ABI and repositories (freebsd/pkg
// src/main.c chroot(2)s before anything else).
func UpgradeCommandIn(chroot string) Command {
	return Command{Args: []string{"pkg-static", "-c", chroot, "upgrade", "-f", "-y"}, Env: env()}
}

// PortmasterCommand returns `portmaster -aPf` for hosts that build from
// ports, with what keeps it from asking: --no-confirm (no confirmation of
// the list of ports), -G (no make config dialogs), -D (no question about
// cleaning distfiles), and BATCH=yes for the ports' own builds.
func PortmasterCommand() Command {
	return Command{
		Args: []string{"portmaster", "-aPf", "--no-confirm", "-G", "-D"},
		Env:  env("BATCH=yes"),
	}
}
