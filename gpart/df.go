// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// DfArgv returns `df -k PATH`: the space of the file system holding path,
// in KiB.
func DfArgv(path string) []string { return []string{"df", "-k", path} }

// ParseDfAvail parses the output of `df -k PATH` (a header, then one line:
// file system, 1024-blocks, used, avail, capacity, mount point) and returns
// the bytes available.
func ParseDfAvail(out string) (uint64, error) {
	const command = "df -k"
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "Filesystem") {
		return 0, &host.ParseError{Command: command, Reason: "want a header line and a line for the file system"}
	}
	last := lines[len(lines)-1]
	f := strings.Fields(last)
	if len(f) < 6 {
		return 0, &host.ParseError{Command: command, Line: len(lines), Text: last, Reason: "want six columns: file system, 1024-blocks, used, avail, capacity, mounted on"}
	}
	kib, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return 0, &host.ParseError{Command: command, Line: len(lines), Text: last, Reason: "the avail column is not a number"}
	}
	if kib < 0 { // df reports root's reserve as negative space
		kib = 0
	}
	return uint64(kib) * 1024, nil
}
