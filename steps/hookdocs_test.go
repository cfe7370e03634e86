// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"os"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/host"
)

// TestDocsNameUnhookCommands: docs/apply.md names the commands the end of
// a run removes the boot hook with, as unhook makes them: the variables
// of /etc/rc.conf.d/zupgrade with sysrc -f, and the zupgrade_enable of
// /etc/rc.conf an earlier zupgrade set.
func TestDocsNameUnhookCommands(t *testing.T) {
	data, err := os.ReadFile("../docs/apply.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(data)), " ")
	vars := make([]RCVar, len(hookVars))
	for i, v := range hookVars {
		vars[i] = RCVar{Name: v}
	}
	for _, op := range []Op{
		&Sysrc{File: rcConfD, Vars: vars, Remove: true},
		&Sysrc{Vars: []RCVar{{Name: "zupgrade_enable"}}, Remove: true},
		&RemoveFile{Path: rcScript},
	} {
		line := host.QuoteArgs(op.Command().Args)
		if !strings.Contains(doc, "`"+line+"`") {
			t.Errorf("docs/apply.md does not name `%s`, which the end of a run runs", line)
		}
	}
}
