// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// ParseGlabelStatus reads the output of `glabel status` into labels. The
// header line ("Name  Status  Components") is optional, so output filtered
// through grep parses too; columns are separated by runs of spaces or tabs
// and may carry leading or trailing blanks. A line holding only a component
// continues the label above it (GEOM prints one line per component). Any
// other line returns a *host.ParseError.
func ParseGlabelStatus(out string) ([]Label, error) {
	const command = "glabel status"
	var labels []Label
	for i, raw := range strings.Split(out, "\n") {
		fields := strings.Fields(raw)
		switch {
		case len(fields) == 0:
			continue
		case len(fields) == 3 && fields[0] == "Name" && fields[1] == "Status" && fields[2] == "Components":
			continue
		case len(fields) == 1:
			if len(labels) == 0 {
				return nil, &host.ParseError{Command: command, Line: i + 1, Text: raw, Reason: "component without a label before it"}
			}
			prev := labels[len(labels)-1]
			labels = append(labels, Label{Name: prev.Name, Status: prev.Status, Component: fields[0]})
		case len(fields) >= 3:
			// A label may hold blanks (GPT labels can); status and
			// component never do, so they are the last two columns.
			n := len(fields)
			name := strings.Join(fields[:n-2], " ")
			labels = append(labels, Label{Name: name, Status: fields[n-2], Component: fields[n-1]})
		default:
			return nil, &host.ParseError{Command: command, Line: i + 1, Text: raw, Reason: `expected "<name> <status> <component>"`}
		}
	}
	return labels, nil
}
