// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"strings"
	"testing"
)

// TestRCScriptQuotes: the paths in the boot hook are quoted for sh, and a
// state directory the hook cannot name is refused.
func TestRCScriptQuotes(t *testing.T) {
	script := string(RCScript("/usr/local/sbin/zupgrade", "/var/db/it's $HOME"))
	want := `	daemon -f -o '/var/db/it'\''s $HOME/resume.log' /usr/local/sbin/zupgrade --state-dir '/var/db/it'\''s $HOME' apply --resume` + "\n"
	if !strings.Contains(script, want) {
		t.Errorf("the daemon line is not quoted:\n%s", script)
	}
	for _, dir := range []string{"var/db/zupgrade", "/var/db/a\nb"} {
		if err := checkStateDir(dir); err == nil {
			t.Errorf("state directory %q accepted", dir)
		}
	}
	if err := checkStateDir("/var/db/zupgrade"); err != nil {
		t.Error(err)
	}
}
