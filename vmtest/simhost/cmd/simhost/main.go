// SPDX-License-Identifier: BSD-2-Clause

// Command simhost is the simulated FreeBSD host: a multi-call binary that
// answers as freebsd-update, zpool, gpart, ... according to the name it
// is run by (its bin/ links), and as "simhost" makes, boots and shows
// machines. See vmtest/simhost/README.md.
package main

import (
	"os"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

func main() {
	os.Exit(simhost.Main(os.Args))
}
