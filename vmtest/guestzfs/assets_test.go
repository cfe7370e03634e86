// SPDX-License-Identifier: BSD-2-Clause

package guestzfs

import (
	"reflect"
	"strings"
	"testing"
)

// apt-cache show --no-all-versions zfsutils-linux zfs-dkms, shortened, as
// bookworm-backports prints it.
const aptShowOutput = `Package: zfsutils-linux
Source: zfs-linux
Version: 2.3.2-2~bpo12+2
Depends: libnvpair3linux (= 2.3.2-2~bpo12+2), libuutil3linux (= 2.3.2-2~bpo12+2), libzfs6linux (= 2.3.2-2~bpo12+2), libzpool6linux (= 2.3.2-2~bpo12+2), python3, libblkid1 (>= 2.16), libc6 (>= 2.34), libssl3 (>= 3.0.0), libudev1 (>= 183), libuuid1 (>= 2.16)
Description-en: command-line tools to manage OpenZFS filesystems
 The Z file system is a pooled filesystem designed for maximum data
 integrity.

Package: zfs-dkms
Version: 2.3.2-2~bpo12+2
Depends: dkms (>= 3.0.3-4~), file, libc6-dev | libc-dev
`

func TestParseStanzasAndExactDepends(t *testing.T) {
	s := parseStanzas([]byte(aptShowOutput))
	if len(s) != 2 || s[0]["Package"] != "zfsutils-linux" || s[1]["Version"] != "2.3.2-2~bpo12+2" {
		t.Fatalf("stanzas = %v", s)
	}
	if !strings.Contains(s[0]["Description-en"], "integrity.") {
		t.Errorf("continuation lines lost: %q", s[0]["Description-en"])
	}
	got := exactDepends(s[0]["Depends"])
	want := []string{"libnvpair3linux", "libuutil3linux", "libzfs6linux", "libzpool6linux"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("exactDepends = %v, want %v", got, want)
	}
	if d := exactDepends(s[1]["Depends"]); len(d) != 0 {
		t.Errorf("zfs-dkms pins nothing, got %v", d)
	}
}

func TestKeyNamesKernelAndEveryVersion(t *testing.T) {
	v := Versions{"zfs-dkms": "2.3.2-2~bpo12+2", "zfsutils-linux": "2.3.2-2~bpo12+2", "libzfs6linux": "2.3.2-2~bpo12+2"}
	k := Key("6.1.0-57-amd64", v)
	if !strings.HasPrefix(k, "6.1.0-57-amd64_zfs-2.3.2-2~bpo12+2_") {
		t.Errorf("key %q does not name the kernel and OpenZFS", k)
	}
	if Key("6.1.0-57-amd64", Versions{"zfs-dkms": v["zfs-dkms"], "zfsutils-linux": v["zfsutils-linux"], "libzfs6linux": v["libzfs6linux"]}) != k {
		t.Error("the same versions give another key")
	}
	if Key("6.1.0-58-amd64", v) == k {
		t.Error("another kernel gives the same key")
	}
	v2 := Versions{"zfs-dkms": v["zfs-dkms"], "zfsutils-linux": v["zfsutils-linux"], "libzfs6linux": "2.3.2-2~bpo12+3"}
	if Key("6.1.0-57-amd64", v2) == k {
		t.Error("another library version gives the same key")
	}
}

func TestParseLdd(t *testing.T) {
	out := `	linux-vdso.so.1 (0x00007ffd)
	libzfs.so.6 => /x/lib/x86_64-linux-gnu/libzfs.so.6 (0x00007fd3)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fd3)
	/lib64/ld-linux-x86-64.so.2 (0x00007fd3)
`
	got, err := parseLdd([]byte(out))
	want := []string{"/x/lib/x86_64-linux-gnu/libzfs.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseLdd = %v, %v; want %v", got, err, want)
	}
	if _, err := parseLdd([]byte("\tlibtirpc.so.3 => not found\n")); err == nil || !strings.Contains(err.Error(), "libtirpc") {
		t.Errorf("a missing library: err = %v", err)
	}
}

func TestHeaderDirsNameThePackage(t *testing.T) {
	_, _, err := headerDirs("0.0.0-0-nonexistent")
	if err == nil || !strings.Contains(err.Error(), "linux-headers-0.0.0-0-nonexistent") {
		t.Errorf("err = %v, want the headers package named", err)
	}
}
