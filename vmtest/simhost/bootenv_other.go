// SPDX-License-Identifier: BSD-2-Clause

//go:build !linux

package simhost

import (
	"fmt"
	"os"
)

// setBootenv needs OpenZFS's ioctl, which simhost makes in a Linux guest
// only.
func setBootenv(pool string, _ nvList) error {
	return fmt.Errorf("bootenv of %s: the ZFS bootenv ioctl is made by simhost on Linux only", pool)
}

// openDevice opens a device node.
func openDevice(path string, flag int) (*os.File, error) { return os.OpenFile(path, flag, 0) }

// ioBuffer is a buffer of n bytes.
func ioBuffer(n int) []byte { return make([]byte, n) }
