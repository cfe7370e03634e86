// SPDX-License-Identifier: BSD-2-Clause

package host

import "fmt"

// ParseError reports output of a host command that a parser could not
// understand. It names the command and the line so that an admin can see what
// their host printed, and so that a bug report can carry the exact input.
type ParseError struct {
	// Command is the command line whose output was parsed, e.g. "zpool status".
	Command string
	// Line is the 1-based line number of the offending line, or 0 when the
	// problem concerns the output as a whole (empty, truncated).
	Line int
	// Text is the offending line, verbatim.
	Text string
	// Reason says what was expected.
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("cannot parse output of %q: %s", e.Command, e.Reason)
	}
	return fmt.Sprintf("cannot parse output of %q, line %d %q: %s", e.Command, e.Line, e.Text, e.Reason)
}
