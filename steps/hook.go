// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// RCScript returns the rc.d script that resumes a run after a reboot. It
// follows rc.subr(8): enabled with zupgrade_enable=YES (apply sets it while
// a run is pending and removes it when the run ends), runs late in boot
// (after sshd, so that the host stays reachable) and detaches with daemon(8)
// so that the boot does not wait for the upgrade. The paths are quoted for
// sh; the state directory must be absolute and on one line (checkStateDir).
func RCScript(binary, stateDir string) []byte {
	log := stateDir + "/resume.log"
	return []byte(fmt.Sprintf(`#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# PROVIDE: zupgrade
# REQUIRE: LOGIN sshd
# KEYWORD: nojail
#
# Resumes a pending zupgrade run after a reboot checkpoint. zupgrade apply
# installs and enables this script while a run is pending and removes it
# when the run ends. The run's log: %[1]s

. /etc/rc.subr

name="zupgrade"
rcvar="zupgrade_enable"
start_cmd="zupgrade_start"
stop_cmd=":"

load_rc_config $name
: ${zupgrade_enable:="NO"}

zupgrade_start()
{
	echo %[2]s
	daemon -f -o %[3]s %[4]s
}

run_rc_command "$1"
`, log, host.QuoteArgs([]string{"Resuming the zupgrade run (log: " + log + ")."}), host.QuoteArgs([]string{log}),
		host.QuoteArgs([]string{binary, "--state-dir", stateDir, "apply", "--resume"})))
}

// checkStateDir refuses a state directory the boot hook cannot name: rc
// runs it from /, and the script holds it on one line.
func checkStateDir(dir string) error {
	if !path.IsAbs(dir) || strings.ContainsAny(dir, "\n\r") {
		return fmt.Errorf("the state directory %q must be an absolute path on one line for the boot hook: give --state-dir an absolute path", dir)
	}
	return nil
}

// hookBinary is where the boot hook runs zupgrade: a path that survives
// reboots (an admin may have started zupgrade from /tmp, which rc empties
// with clear_tmp_enable=YES or a tmpfs, libexec/rc/rc.d/cleartmp).
const hookBinary = "/usr/local/sbin/zupgrade"

// writeHook writes the rc.d script into the state directory, from where the
// checkpoint installs it with install(1) through the runner.
func writeHook(s Store) error {
	if err := checkStateDir(s.Dir); err != nil {
		return err
	}
	dir := filepath.Join(s.Dir, "rc.d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := writeDurably(filepath.Join(dir, "zupgrade"), RCScript(hookBinary, s.Dir)); err != nil {
		return err
	}
	return writeDurably(filepath.Join(dir, "zupgrade.conf"), []byte("# Written by zupgrade while a run is pending.\nzupgrade_enable=\"YES\"\n"))
}

// installBinary copies the running zupgrade (Engine.Binary) to hookBinary,
// where the boot hook runs it, unless that file has the same content
// already (sha256 of both through the runner).
func (sc *stepContext) installBinary(ctx context.Context) error {
	src := sc.e.Binary
	if src == "" {
		return nil
	}
	sum := func(p string) string {
		res, err := sc.probe(ctx, "sha256", "-q", p)
		if err != nil || !res.OK() {
			return ""
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	want := sum(src)
	if want == "" {
		return fmt.Errorf("cannot read the running zupgrade (%s) to copy it to %s for the boot hook: put zupgrade in %s and run it from there", src, hookBinary, hookBinary)
	}
	if sum(hookBinary) == want {
		return nil
	}
	for _, c := range []Cmd{
		{Args: []string{"mkdir", "-p", path.Dir(hookBinary)}},
		{Args: []string{"install", "-m", "0555", src, hookBinary}},
	} {
		if _, err := sc.run(ctx, c); err != nil {
			return fmt.Errorf("copy zupgrade to %s for the boot hook: %w", hookBinary, err)
		}
	}
	return nil
}

// hookInstalled reports whether the boot hook is on the host or enabled.
func (sc *stepContext) hookInstalled(ctx context.Context) bool {
	ls, err := sc.probe(ctx, "ls", "-1", rcScript)
	if err == nil && ls.OK() {
		return true
	}
	if ls, err := sc.probe(ctx, "ls", "-1", rcConfD); err == nil && ls.OK() {
		return true
	}
	v, err := sc.probe(ctx, "sysrc", "-n", "zupgrade_enable")
	return err == nil && v.OK() && strings.TrimSpace(string(v.Stdout)) != ""
}
