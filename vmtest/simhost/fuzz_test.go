// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// FuzzParseRelease checks that a release that parses prints back to a name that
// parses to the same release.
func FuzzParseRelease(f *testing.F) {
	for _, line := range strings.Split(fixtureText(f, "freebsd-version-kru-states.txt"), "\n") {
		f.Add(line)
	}
	f.Add("14.2-BETA2")
	f.Add("15.0-CURRENT-p-1")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRelease(s)
		if err != nil {
			return
		}
		back, err := ParseRelease(r.String())
		if err != nil || back != r {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, r, r.String(), back, err)
		}
	})
}

// FuzzParseBlob checks that any bytes (a partition's content) are either recognised
// or not, without panics; real blobs round-trip.
func FuzzParseBlob(f *testing.F) {
	for _, k := range []string{BlobPMBR, BlobGPTZFSBoot, BlobLoaderEFI, BlobKernel, BlobEFIFAT} {
		f.Add(makeBlob(k, MustRelease("13.2-RELEASE-p4"), "amd64"))
	}
	f.Add([]byte("FreeBSD gptzfsboot x y\nfeatures for read:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, ok := parseBlob(data)
		if ok && b.Kind == "" {
			t.Fatalf("recognised a blob without a kind")
		}
		if ok {
			again, ok2 := parseBlob(makeBlob(b.Kind, b.Release, b.Arch))
			if !ok2 || again.Kind != b.Kind || again.Release.Base() != b.Release.Base() {
				t.Fatalf("blob %+v does not round-trip: %+v", b, again)
			}
		}
	})
}

// FuzzSed checks that any s/// command either parses or is refused, and applies
// without panics.
func FuzzSed(f *testing.F) {
	f.Add("s/=_/=%@_/", "\tP=\"[-+./:=_[[:alnum:]]\"\n")
	f.Add(`s/\(a\)b/\1&/g`, "abab\n")
	f.Add("s,x,y,", "x\n")
	f.Fuzz(func(t *testing.T, expr, text string) {
		for _, ere := range []bool{false, true} {
			sub, err := parseSedSub(expr, ere)
			if err != nil {
				continue
			}
			applySed([]byte(text), []sedSub{sub})
		}
	})
}

// FuzzGetopt checks that options parse or are refused; operands are a suffix of the
// arguments.
func FuzzGetopt(f *testing.F) {
	f.Add("-n -F -e P=\"[ -e libsys /usr/sbin/freebsd-update")
	f.Add("-b /boot/pmbr -p /boot/gptzfsboot -i 2 ada0")
	f.Add("-kru")
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		_, rest, err := getopt(args, "nFEe:qvicsHhlb:p:i:kru")
		if err != nil {
			return
		}
		if len(rest) > len(args) || strings.Join(args[len(args)-len(rest):], " ") != strings.Join(rest, " ") {
			t.Fatalf("operands %q are not a suffix of %q", rest, args)
		}
	})
}

// FuzzReadIndex checks that an INDEX file of any content reads without panics, and
// every file entry it returns has a path.
func FuzzReadIndex(f *testing.F) {
	f.Add("/bin/cat|f|0|0|0555|0|0123|\n/boot|d|0|0|0755|0||\n")
	f.Add("||||||\n|f\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		p := filepath.Join(dir, "INDEX")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		idx, err := readIndex(p)
		if err != nil {
			t.Fatal(err)
		}
		for k, e := range idx {
			if k != e.path {
				t.Fatalf("entry %q keyed %q", e.path, k)
			}
		}
	})
}

// FuzzRCConf checks that assignments read back as written.
func FuzzRCConf(f *testing.F) {
	f.Add("zupgrade_enable", "YES")
	f.Add("hostname", "a b")
	f.Fuzz(func(t *testing.T, name, val string) {
		if !shellName.MatchString(name) || strings.ContainsAny(val, "\n\"'") || strings.TrimSpace(val) != val || strings.Contains(val, " #") {
			return
		}
		c := &rcConf{}
		c.set(name, val)
		if got, ok := c.get(name); !ok || got != val {
			t.Fatalf("set %q=%q, got %q %v (line %q)", name, val, got, ok, c.lines)
		}
	})
}

// shellName matches the names sh accepts for variables.
var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// fixtureText reads a testdata file for a fuzz seed.
func fixtureText(f *testing.F, name string) string {
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return string(data)
}
