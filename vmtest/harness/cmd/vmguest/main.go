// SPDX-License-Identifier: BSD-2-Clause

// Command vmguest is the guest agent of vmtest's Linux guest: started by
// the initramfs's init, it runs one job of a scenario on the simulated
// machine kept on the guest's virtio disk, and reports on the console.
package main

import (
	"os"

	"github.com/zupgrade/zupgrade/vmtest/harness"
)

func main() { os.Exit(harness.GuestMain(os.Args[1:])) }
