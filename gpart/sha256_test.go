// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSHA256(t *testing.T) {
	const member = "sha256 -r /boot/loader.efi /boot/gptzfsboot /boot/pmbr /boot/efi/efi/freebsd/loader.efi /boot/efi/efi/boot/bootx64.efi"
	sums, err := ParseSHA256(testOutput(t, "sha256-r-loaders.txtar", member))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/boot/loader.efi":                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"/boot/gptzfsboot":                 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"/boot/pmbr":                       "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
		"/boot/efi/efi/freebsd/loader.efi": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	}
	if diff := cmp.Diff(want, sums); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	failed, err := ParseSHA256Errors(testOutput(t, "sha256-r-loaders.txtar", member+" [stderr]"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"/boot/efi/efi/boot/bootx64.efi": "No such file or directory"}, failed); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// The ESP copy equals /boot/loader.efi although sha256 printed it in
	// upper case.
	if sums["/boot/loader.efi"] != sums["/boot/efi/efi/freebsd/loader.efi"] {
		t.Error("digests are not normalised")
	}
}

func TestParseSHA256Variants(t *testing.T) {
	const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	got, err := ParseSHA256(sum + " /mnt/esp one/efi/boot/bootx64.efi\r\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"/mnt/esp one/efi/boot/bootx64.efi": sum}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	failed, err := ParseSHA256Errors("sha256: /a: b: Permission denied\nsha256: /boot/pmbr: Is a directory\n")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"/a: b": "Permission denied", "/boot/pmbr": "Is a directory"}, failed); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sha256", "-r", "/boot/loader.efi"}, SHA256Argv("/boot/loader.efi")); diff != "" {
		t.Errorf("SHA256Argv (-want +got):\n%s", diff)
	}
}

func TestParseSHA256Errors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"BSD format without -r", "SHA256 (/boot/loader.efi) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"},
		{"short digest", "e3b0c442 /boot/loader.efi\n"},
		{"no path", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"},
		{"not hex", "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 /x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSHA256(tt.in)
			wantParseError(t, err, "sha256 -r", 1)
		})
	}
	_, err := ParseSHA256Errors("md5: /x: No such file or directory\n")
	wantParseError(t, err, "sha256 -r (standard error)", 1)
}

func FuzzParseSHA256(f *testing.F) {
	seedOutputs(f, "sha256 -r")
	f.Fuzz(func(t *testing.T, in string) {
		sums, err := ParseSHA256(in)
		if err != nil {
			return
		}
		for p, s := range sums {
			if p == "" || !isHex(s, 64) {
				t.Fatalf("bad digest %q for %q", s, p)
			}
		}
		_, _ = ParseSHA256Errors(in)
	})
}
