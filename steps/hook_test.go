// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"strings"
	"testing"
)

// TestRCScript: the boot hook is the shipped file with the prefix put in,
// and a directory the hook cannot be given (relative, on two lines, or
// with what sysrc writes unquoted into double quotes) is refused.
func TestRCScript(t *testing.T) {
	script := string(RCScript("/usr/local"))
	if !strings.Contains(script, "daemon -f -o \"${zupgrade_log_dir}/resume.log\" /usr/local/sbin/zupgrade \\\n") || strings.Contains(script, "%%PREFIX%%") {
		t.Errorf("the prefix is not put in:\n%s", script)
	}
	for _, dir := range []string{"var/db/zupgrade", "/var/db/a\nb", `/var/db/a"b`, "/var/db/$HOME", "/var/db/`id`", `/var/db/a\b`} {
		if err := CheckHookDir("--state-dir", dir); err == nil {
			t.Errorf("directory %q accepted", dir)
		}
	}
	for _, dir := range []string{"/var/db/zupgrade", "/var/db/it's mine"} {
		if err := CheckHookDir("--state-dir", dir); err != nil {
			t.Error(err)
		}
	}
	if got := string(hookConf("/var/db/zupgrade", "/var/log/zupgrade")); !strings.Contains(got, "zupgrade_enable=\"YES\"\nzupgrade_state_dir=\"/var/db/zupgrade\"\nzupgrade_log_dir=\"/var/log/zupgrade\"\n") {
		t.Errorf("hookConf: %q", got)
	}
}

// TestLogDirFor: the default state directory's logs go to /var/log/zupgrade,
// another state directory's beside it.
func TestLogDirFor(t *testing.T) {
	for in, want := range map[string]string{"": DefaultLogDir, DefaultStateDir: DefaultLogDir, "/srv/zupgrade": "/srv/zupgrade/logs"} {
		if got := LogDirFor(in); got != want {
			t.Errorf("LogDirFor(%q) = %q, want %q", in, got, want)
		}
	}
}
