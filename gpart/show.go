// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// ShowTable is one partition table as `gpart show` prints it: a header line
// starting with "=>" followed by one line per partition and free region.
type ShowTable struct {
	// Geom is the geom name, e.g. "ada0" or "diskid/DISK-Y39B70RTK7AS".
	Geom string
	// Scheme is the partitioning scheme, e.g. "GPT".
	Scheme string
	// Start and Sectors are the first usable sector and the number of
	// usable sectors.
	Start, Sectors uint64
	// HumanSize is the size of the provider as gpart rounds it, e.g. "40G".
	HumanSize string
	// Corrupt is set when gpart marks the table "[CORRUPT]".
	Corrupt bool
	// Entries are the partitions; free regions are left out.
	Entries []ShowEntry
}

// ShowEntry is one partition line of `gpart show`.
type ShowEntry struct {
	// Start and Sectors are the partition's first sector and length.
	Start, Sectors uint64
	// Index is the partition's index; 0 under -p, which prints Provider.
	Index int
	// Provider is the provider name under -p (e.g. "ada0p2"), else empty.
	Provider string
	// Type is the type column: the partition type, or under -l the label
	// (empty for "(null)"), or under -r the raw type.
	Type string
	// HumanSize is the partition size as gpart rounds it, e.g. "512K".
	HumanSize string
	// Attributes are the attributes gpart shows in brackets ("active", ...).
	Attributes []string
}

// ParseShow reads the output of `gpart show`, plain or with -p, -l or -r,
// for one or several geoms. Free regions ("- free -") are skipped. The
// column widths vary with the numbers and names; fields are read by position
// from both ends of each line, so labels holding blanks (-l) are kept whole.
// Any line that is neither a header, a partition nor a free region returns a
// *host.ParseError.
func ParseShow(out string) ([]ShowTable, error) {
	const command = "gpart show"
	perr := func(line int, text, reason string) error {
		return &host.ParseError{Command: command, Line: line, Text: text, Reason: reason}
	}
	var tables []ShowTable
	for i, raw := range strings.Split(out, "\n") {
		lineNo := i + 1
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "=>"); ok {
			f := strings.Fields(rest)
			if len(f) < 5 {
				return nil, perr(lineNo, raw, `expected "=> <start> <sectors> <geom> <scheme> (<size>)"`)
			}
			t := ShowTable{Geom: f[2], Scheme: f[3]}
			var err error
			if t.Start, err = strconv.ParseUint(f[0], 10, 64); err != nil {
				return nil, perr(lineNo, raw, "start sector is not a number")
			}
			if t.Sectors, err = strconv.ParseUint(f[1], 10, 64); err != nil {
				return nil, perr(lineNo, raw, "sector count is not a number")
			}
			var ok bool
			if t.HumanSize, ok = parenthesized(f[4]); !ok {
				return nil, perr(lineNo, raw, "size is not in parentheses")
			}
			switch {
			case len(f) == 5:
			case len(f) == 6 && f[5] == "[CORRUPT]":
				t.Corrupt = true
			default:
				return nil, perr(lineNo, raw, "unexpected text after the size")
			}
			tables = append(tables, t)
			continue
		}
		if len(tables) == 0 {
			return nil, perr(lineNo, raw, `expected a table header starting with "=>"`)
		}
		f := strings.Fields(line)
		if len(f) == 6 && f[2] == "-" && f[3] == "free" && f[4] == "-" {
			if _, ok := parenthesized(f[5]); !ok {
				return nil, perr(lineNo, raw, "size is not in parentheses")
			}
			continue
		}
		if len(f) < 5 {
			return nil, perr(lineNo, raw, `expected "<start> <sectors> <index> <type> (<size>)"`)
		}
		var e ShowEntry
		var err error
		if e.Start, err = strconv.ParseUint(f[0], 10, 64); err != nil {
			return nil, perr(lineNo, raw, "start sector is not a number")
		}
		if e.Sectors, err = strconv.ParseUint(f[1], 10, 64); err != nil {
			return nil, perr(lineNo, raw, "sector count is not a number")
		}
		if n, err := strconv.Atoi(f[2]); err == nil {
			if n < 1 {
				return nil, perr(lineNo, raw, "index is not a positive number")
			}
			e.Index = n
		} else {
			e.Provider = f[2]
		}
		last := len(f) - 1
		var ok bool
		if e.HumanSize, ok = parenthesized(f[last]); !ok {
			return nil, perr(lineNo, raw, "size is not in parentheses")
		}
		last--
		if a := f[last]; last > 3 && strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
			e.Attributes = strings.Split(a[1:len(a)-1], ",")
			last--
		}
		e.Type = labelValue(strings.Join(f[3:last+1], " "))
		tables[len(tables)-1].Entries = append(tables[len(tables)-1].Entries, e)
	}
	if len(tables) == 0 {
		return nil, &host.ParseError{Command: command, Reason: "no partition table in output"}
	}
	return tables, nil
}

// parenthesized returns s without its enclosing parentheses.
func parenthesized(s string) (string, bool) {
	if len(s) < 3 || s[0] != '(' || s[len(s)-1] != ')' {
		return "", false
	}
	return s[1 : len(s)-1], true
}
