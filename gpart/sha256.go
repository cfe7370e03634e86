// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// SHA256Argv returns the command that hashes files in one process:
// sha256 -r FILE... (prints "<hex> <path>" per file that exists).
func SHA256Argv(paths ...string) []string {
	return append([]string{"sha256", "-r"}, paths...)
}

// ParseSHA256 reads the standard output of `sha256 -r FILE...` into a map
// from path to lower-case hex digest. Files that could not be read appear
// only on standard error (see ParseSHA256Errors), so they are absent here.
// Lines that are not "<64 hex digits> <path>" return a *host.ParseError.
func ParseSHA256(out string) (map[string]string, error) {
	const command = "sha256 -r"
	sums := map[string]string{}
	for i, raw := range strings.Split(out, "\n") {
		line := strings.TrimRight(raw, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		sum, path, ok := strings.Cut(line, " ")
		if !ok || !isHex(sum, 64) || path == "" {
			return nil, &host.ParseError{Command: command, Line: i + 1, Text: raw, Reason: `expected "<sha256 hex> <path>"`}
		}
		sums[path] = strings.ToLower(sum)
	}
	return sums, nil
}

// ParseSHA256Errors reads the standard error of `sha256 -r FILE...` into a
// map from path to the reason it could not be hashed, from lines such as
// "sha256: /boot/efi/efi/boot/bootx64.efi: No such file or directory".
// Other lines return a *host.ParseError.
func ParseSHA256Errors(stderr string) (map[string]string, error) {
	const command = "sha256 -r (standard error)"
	failed := map[string]string{}
	for i, raw := range strings.Split(stderr, "\n") {
		line := strings.TrimRight(raw, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		rest, ok := strings.CutPrefix(line, "sha256: ")
		j := strings.LastIndex(rest, ": ")
		if !ok || j <= 0 {
			return nil, &host.ParseError{Command: command, Line: i + 1, Text: raw, Reason: `expected "sha256: <path>: <reason>"`}
		}
		failed[rest[:j]] = rest[j+2:]
	}
	return failed, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isASCIIDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
