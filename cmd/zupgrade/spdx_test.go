// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// spdxLine is the licence line every Go and shell file of the repository
// carries (LICENSE holds the text).
const spdxLine = "SPDX-License-Identifier: BSD-2-Clause"

// shellShebang matches the first line of a shell script.
var shellShebang = regexp.MustCompile(`^#!\s*(/usr/bin/env\s+)?(/bin/|/usr/bin/|/usr/local/bin/)?(sh|bash|zsh|dash|ksh)\b`)

// TestSPDXHeaders checks that every Go file and every shell script
// (a .sh file or one starting with a shell's #! line) names the licence in
// an SPDX line within its first lines: the Go file's first line, the
// script's line after #!. Test data (testdata directories) is not code of
// the project and is left out.
func TestSPDXHeaders(t *testing.T) {
	root := "../.."
	checked := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "testdata" || (strings.HasPrefix(n, ".") && n != "." && n != ".." && n != ".ci") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		first, second, err := firstLines(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case strings.HasSuffix(p, ".go"):
			checked++
			if first != "// "+spdxLine {
				t.Errorf("%s: the first line is %q, want %q", rel, first, "// "+spdxLine)
			}
		case strings.HasSuffix(p, ".sh") || shellShebang.MatchString(first):
			checked++
			if second != "# "+spdxLine {
				t.Errorf("%s: the line after #! is %q, want %q", rel, second, "# "+spdxLine)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d Go and shell files found under %s: is the test run from cmd/zupgrade?", checked, root)
	}
}

// firstLines returns the first two lines of a file.
func firstLines(p string) (string, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines [2]string
	for i := 0; i < 2 && sc.Scan(); i++ {
		lines[i] = sc.Text()
	}
	return lines[0], lines[1], nil
}
