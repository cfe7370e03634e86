// SPDX-License-Identifier: BSD-2-Clause

//go:build linux

package simhost

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// zfsIocSetBootenv is ZFS_IOC_SET_BOOTENV: ('Z' << 8) + 0x87 in the
// enum zfs_ioc of include/sys/fs/zfs.h; Linux's zfsdev_ioctl takes the
// number as it is (module/os/linux/zfs/zfs_ioctl_os.c).
const zfsIocSetBootenv = 'Z'<<8 + 0x87

// zfsCmdBuffer is the size of the zfs_cmd_t buffer handed to the
// kernel, more than sizeof (zfs_cmd_t) (include/sys/zfs_ioctl.h), which
// the kernel copies in and back out: zc_name (MAXPATHLEN) at offset 0,
// then zc_nvlist_src and zc_nvlist_src_size.
const (
	zfsCmdBuffer      = 64 << 10
	zcNvlistSrc       = 4096
	zcNvlistSrcSize   = zcNvlistSrc + 8
	zfsMaxPoolNameLen = 256
)

// setBootenv hands the pool's bootenv to the running OpenZFS as
// libzfs's zpool_set_bootenv does (lib/libzfs_core lzc_set_bootenv:
// ZFS_IOC_SET_BOOTENV on /dev/zfs, the pool's name and the packed list
// as the source nvlist; the kernel unpacks either encoding, and
// zfs_ioc_set_bootenv writes it into the labels).
func setBootenv(pool string, env nvList) error {
	if pool == "" || len(pool) >= zfsMaxPoolNameLen {
		return fmt.Errorf("bootenv: bad pool name %q", pool)
	}
	f, err := os.OpenFile("/dev/zfs", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("bootenv of %s: %w", pool, err)
	}
	defer f.Close()
	packed := env.packXDR()
	zc := make([]byte, zfsCmdBuffer)
	copy(zc, pool)
	binary.NativeEndian.PutUint64(zc[zcNvlistSrc:], uint64(uintptr(unsafe.Pointer(&packed[0]))))
	binary.NativeEndian.PutUint64(zc[zcNvlistSrcSize:], uint64(len(packed)))
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), zfsIocSetBootenv, uintptr(unsafe.Pointer(&zc[0])))
	runtime.KeepAlive(packed)
	runtime.KeepAlive(zc)
	if errno != 0 {
		return fmt.Errorf("ZFS_IOC_SET_BOOTENV on %s: %w", pool, errno)
	}
	return nil
}

// openDevice opens a device node unbuffered (O_DIRECT), so that what is
// read is what the running OpenZFS wrote past the page cache; a file
// that cannot be opened so (a test's image on tmpfs) is opened plainly.
func openDevice(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_DIRECT, 0)
	if errors.Is(err, syscall.EINVAL) {
		return os.OpenFile(path, flag, 0)
	}
	return f, err
}

// ioBuffer is a buffer of n bytes aligned for O_DIRECT.
func ioBuffer(n int) []byte {
	const align = 4096
	b := make([]byte, n+align)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (align - 1))
	return b[off : off+n : off+n]
}
