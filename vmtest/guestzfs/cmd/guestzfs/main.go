// SPDX-License-Identifier: BSD-2-Clause

// Command guestzfs builds the OpenZFS assets of the vmtest Linux guest for
// a kernel (default: the newest /boot/vmlinuz-KVER with its modules, the
// one the guest boots) into the cache, unless they are there already for
// the package versions apt offers. It prints the cache directory.
//
//	go run ./vmtest/guestzfs/cmd/guestzfs [-kernel KVER]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/zupgrade/zupgrade/vmtest/guestzfs"
)

func main() {
	kver := flag.String("kernel", "", "the guest kernel's version (default: the newest in /boot with modules)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: guestzfs [-kernel KVER]")
		os.Exit(2)
	}
	k := *kver
	if k == "" {
		var err error
		if k, err = guestzfs.GuestKernel(); err != nil {
			fmt.Fprintln(os.Stderr, "guestzfs:", err)
			os.Exit(1)
		}
	}
	a, err := guestzfs.Build(context.Background(), k, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "guestzfs:", err)
		os.Exit(1)
	}
	fmt.Println(a.Root)
}
