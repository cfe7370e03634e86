// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Blob kinds: the boot programs a release ships under /boot.
const (
	BlobPMBR       = "pmbr"
	BlobGPTZFSBoot = "gptzfsboot"
	BlobLoader     = "loader"
	BlobLoaderEFI  = "loader.efi"
	BlobBoot1EFI   = "boot1.efi"
	BlobEFIFAT     = "boot1.efifat"
	BlobKernel     = "kernel"
)

// Blob describes a boot program: which kind, from which release, what
// pool version and which read-incompatible features it can read; a kernel
// also names its configuration (ident, what uname -i prints).
type Blob struct {
	Kind     string
	Release  Release
	Arch     string
	SPA      int
	Features []string
	Ident    string
}

// GenericKernel is the kernel configuration FreeBSD distributes.
const GenericKernel = "GENERIC"

// makeBlob renders the bytes of a boot program. The content is text that
// names the program and its release, so sha256 hashes and read-back
// comparisons work on real bytes; EFI programs start with "MZ" like a PE
// image, and carry the strings a fingerprint looks for. A kernel is GENERIC.
func makeBlob(kind string, r Release, arch string) []byte {
	return makeBlobIdent(kind, r, arch, GenericKernel)
}

// makeKernel renders a kernel built from configuration ident.
func makeKernel(r Release, arch, ident string) []byte {
	return makeBlobIdent(BlobKernel, r, arch, ident)
}

func makeBlobIdent(kind string, r Release, arch, ident string) []byte {
	var b bytes.Buffer
	base := r.Base()
	switch kind {
	case BlobLoaderEFI, BlobBoot1EFI:
		b.WriteString("MZ\x90\x00 simulated PE32+ image\n")
	}
	switch kind {
	case BlobLoaderEFI:
		fmt.Fprintf(&b, "FreeBSD/%s EFI loader, Revision %s\n", arch, loaderRevision(r))
	case BlobBoot1EFI:
		// The banner stand/efi/boot1/boot1.c efi_main prints.
		b.WriteString(">> FreeBSD EFI boot block\n   Loader path: /boot/loader.efi\n")
	}
	rel := base
	if kind == BlobKernel {
		rel = r
	}
	fmt.Fprintf(&b, "FreeBSD %s %s %s\n", kind, rel, arch)
	switch kind {
	case BlobGPTZFSBoot, BlobLoader, BlobLoaderEFI, BlobBoot1EFI:
		fmt.Fprintf(&b, "spa version: %d\n", r.PoolVersion())
		fmt.Fprintf(&b, "features for read: %s\n", strings.Join(loaderFeatureGUIDs(r), " "))
	case BlobKernel:
		fmt.Fprintf(&b, "@(#)FreeBSD %s #0: simulated %s %s\n", r, ident, arch)
		fmt.Fprintf(&b, "ident: %s\n", ident)
		fmt.Fprintf(&b, "spa version: %d\nzpl version: %d\n", r.PoolVersion(), r.ZPLVersion())
	}
	switch kind {
	case BlobLoader, BlobLoaderEFI:
		if r.Has(CapLuaLoader) {
			b.WriteString("interpreter: boot/lua\n")
		} else {
			b.WriteString("interpreter: forth\n")
		}
	case BlobEFIFAT:
		b.WriteString("FAT12 image holding efi/boot/BOOTx64.efi (boot1.efi)\n")
	}
	if kind == BlobPMBR {
		for b.Len() < 512 {
			b.WriteByte(0)
		}
	}
	return b.Bytes()
}

// foreignBlob renders another system's EFI boot program (GRUB, the
// Windows boot manager): a PE image without FreeBSD's strings.
func foreignBlob(kind string) []byte {
	name := "GNU GRUB  version 2.12"
	if kind == "windows" {
		name = "Microsoft Windows Boot Manager (bootmgfw.efi)"
	}
	return []byte("MZ\x90\x00 simulated PE32+ image\n" + name + "\n")
}

// loaderRevision mimics the loader.efi revision string, which grew over time.
func loaderRevision(r Release) string {
	switch {
	case r.AtLeast(14, 0):
		return "3.0"
	case r.AtLeast(13, 0):
		return "1.1"
	default:
		return "1.1"
	}
}

// parseBlob recognises a boot program written by makeBlob anywhere in the
// first bytes of data (a partition may hold it at its start).
func parseBlob(data []byte) (Blob, bool) {
	var bl Blob
	if len(data) > 64*1024 {
		data = data[:64*1024]
	}
	data = bytes.TrimRight(data, "\x00")
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "FreeBSD" && bl.Kind == "":
			r, err := ParseRelease(f[2])
			if err != nil {
				continue
			}
			bl.Kind, bl.Release, bl.Arch = f[1], r, f[3]
		case strings.HasPrefix(line, "spa version: "):
			bl.SPA, _ = strconv.Atoi(strings.TrimPrefix(line, "spa version: "))
		case strings.HasPrefix(line, "ident: "):
			bl.Ident = strings.TrimPrefix(line, "ident: ")
		case strings.HasPrefix(line, "features for read:"):
			bl.Features = strings.Fields(strings.TrimPrefix(line, "features for read:"))
		}
	}
	return bl, bl.Kind != ""
}

// readsFeature reports whether the boot program can read a pool on which
// the feature with that GUID is active.
func (b Blob) readsFeature(guid string) bool {
	for _, g := range b.Features {
		if g == guid {
			return true
		}
	}
	return false
}

// validPE reports whether data looks like an EFI executable the firmware
// would load (a torn or foreign file does not).
func validPE(data []byte) bool { return bytes.HasPrefix(data, []byte("MZ")) }
