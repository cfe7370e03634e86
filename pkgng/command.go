package pkgng

import "github.com/zupgrade/zupgrade/host"

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

// BootstrapCommand returns `pkg-static bootstrap -f -y`: reinstall pkg
// itself for the new ABI. pkg-static runs even when the new base system no
// longer has the libraries the dynamic pkg was linked against.
func BootstrapCommand() Command {
	return Command{Args: []string{"pkg-static", "bootstrap", "-f", "-y"}, Env: env()}
}

// UpgradeCommand returns `pkg-static upgrade -f -y`: reinstall every
// package from the repository of the new ABI.
func UpgradeCommand() Command {
	return Command{Args: []string{"pkg-static", "upgrade", "-f", "-y"}, Env: env()}
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
