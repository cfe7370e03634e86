// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is the release of this build, stamped by the release build with
// -ldflags "-X main.version=1.2.3"; builds from a checkout say "devel".
var version = "devel"

// versionText is what `zupgrade version` and `zupgrade --version` print:
// the version, the commit the binary was built from (Go records it from the
// checkout, with "+dirty" for uncommitted changes), the Go version and the
// platform.
func versionText() string {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			commit = rev
			if dirty {
				commit += "+dirty"
			}
		}
	}
	return fmt.Sprintf("zupgrade %s (commit %s, %s, %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func init() {
	// --version without urfave/cli's -v alias, which is --verbose here.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version, commit and Go version"}
	cli.VersionPrinter = func(c *cli.Context) { io.WriteString(c.App.Writer, versionText()) }
}

func versionCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print zupgrade's version, commit and Go version",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("version takes no arguments")
			}
			_, err := io.WriteString(env.Stdout, versionText())
			return err
		},
	}
}
