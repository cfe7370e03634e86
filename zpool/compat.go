// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// CompatibilityDirs are where OpenZFS looks for the files the
// compatibility property names, in order: the admin's own, then the
// system's.
var CompatibilityDirs = []string{"/etc/zfs/compatibility.d", "/usr/share/zfs/compatibility.d"}

// ParseCompatibilityFile parses a feature-set file of compatibility.d: one
// feature name per line (or several separated by blanks and commas), "#"
// starting a comment. name is the file's path, for errors.
func ParseCompatibilityFile(name string, data []byte) ([]string, error) {
	var out []string
	for i, line := range strings.Split(string(data), "\n") {
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			if !featureName.MatchString(f) {
				return nil, &host.ParseError{Command: "cat " + name, Line: i + 1, Text: line, Reason: "not a feature name"}
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// AllowedByCompatibility returns the features of want that every named
// feature set allows (the property's meaning: the intersection of its
// files). sets maps each file name of the property to its features;
// "legacy" allows none.
func AllowedByCompatibility(want []string, names []string, sets map[string][]string) []string {
	var out []string
	for _, f := range want {
		ok := true
		for _, n := range names {
			if n == "legacy" {
				ok = false
				break
			}
			found := false
			for _, g := range sets[n] {
				if g == f {
					found = true
					break
				}
			}
			if !found {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}
