// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/gpart"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/internal/durable"
	"github.com/zupgrade/zupgrade/pkgng"
)

// rcScriptTemplate is the rc.d script zupgrade ships (the port installs it
// from packaging/freebsd/files/zupgrade.in, a copy), with %%PREFIX%% for
// the directory zupgrade is installed under.
//
//go:embed rc.d/zupgrade.in
var rcScriptTemplate string

// RCScript returns the rc.d script that resumes a run after a reboot, for
// zupgrade installed under prefix (/usr/local). It follows rc.subr(8):
// enabled with zupgrade_enable=YES in /etc/rc.conf.d/zupgrade while a run
// is pending, it runs late in boot (after sshd, so that the host stays
// reachable), resumes the run of zupgrade_state_dir detached with daemon(8)
// so that the boot does not wait for it, and does nothing when no run is
// pending; status says whether one is. It is the same file whether the
// package installed it or a run did.
func RCScript(prefix string) []byte {
	return []byte(strings.ReplaceAll(rcScriptTemplate, "%%PREFIX%%", prefix))
}

// rcConfValueChars are the characters a value of /etc/rc.conf.d/zupgrade
// may not hold: sysrc writes NAME="VALUE" as given (f_sysrc_set in
// usr.sbin/bsdconfig/share/sysrc.subr), and rc reads it with sh.
const rcConfValueChars = "\"$`\\\n\r"

// CheckHookDir refuses a directory the boot hook cannot be given: rc runs
// the hook from /, and its rc.conf.d file holds the directory in double
// quotes. what names the option ("--state-dir").
func CheckHookDir(what, dir string) error {
	if !path.IsAbs(dir) || strings.ContainsAny(dir, rcConfValueChars) {
		return fmt.Errorf("%s %q: the boot hook needs an absolute path on one line without \", $, ` or \\ (zupgrade writes it into %s): give %s such a path", what, dir, rcConfD, what)
	}
	return nil
}

// hookConf is the boot hook's rc.conf.d file, installed where the host has
// no sysrc(8): it enables the hook and names the run's directories.
func hookConf(stateDir, logDir string) []byte {
	return []byte(fmt.Sprintf("# Written by zupgrade while a run is pending.\nzupgrade_enable=\"YES\"\nzupgrade_state_dir=\"%s\"\nzupgrade_log_dir=\"%s\"\n", stateDir, logDir))
}

// hookBinary is where the boot hook runs zupgrade: a path that survives
// reboots (an admin may have started zupgrade from /tmp, which rc empties
// with clear_tmp_enable=YES or a tmpfs, libexec/rc/rc.d/cleartmp).
const hookBinary = "/usr/local/sbin/zupgrade"

// writeHook writes the rc.d script and its rc.conf.d file into the state
// directory, from where the checkpoint installs them with install(1)
// through the runner.
func writeHook(s Store, logDir string) error {
	if err := CheckHookDir("the state directory", s.Dir); err != nil {
		return err
	}
	if err := CheckHookDir("the log directory", logDir); err != nil {
		return err
	}
	dir := filepath.Join(s.Dir, "rc.d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(dir, "zupgrade"), RCScript(path.Dir(path.Dir(hookBinary))), 0o600); err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(dir, "zupgrade.conf"), hookConf(s.Dir, logDir), 0o600)
}

// installBinary copies the running zupgrade (Engine.Binary) to hookBinary,
// where the boot hook runs it, unless that file has the same content
// already; it never overwrites a package's file (checkHookBinary).
func (sc *stepContext) installBinary(ctx context.Context) error {
	copyIt, err := sc.e.checkHookBinary(ctx)
	if err != nil || !copyIt {
		return err
	}
	for _, c := range []Cmd{
		cmdFor(&MakeDir{Path: path.Dir(hookBinary)}, Cond{}),
		cmdFor(&InstallFile{Source: sc.e.Binary, Target: hookBinary, Mode: "0555"}, Cond{}),
	} {
		if _, err := sc.run(ctx, c); err != nil {
			return fmt.Errorf("copy zupgrade to %s for the boot hook: %w", hookBinary, err)
		}
	}
	return nil
}

// checkHookBinary reports whether the running zupgrade (Engine.Binary)
// must be copied to hookBinary for the boot hook: not when that file has
// the same content already. When a package installed hookBinary (pkg
// which) and it differs, the file is the package's and is never
// overwritten: the run is refused, since the boot hook would resume it
// with that other zupgrade.
func (e *Engine) checkHookBinary(ctx context.Context) (bool, error) {
	differs, err := e.hookBinaryDiffers(ctx)
	if err != nil || !differs {
		return false, err
	}
	if err := e.hookBinaryPackaged(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// hookBinaryDiffers reports whether hookBinary is not the running zupgrade
// (sha256 -r of both, in one command, through the runner).
func (e *Engine) hookBinaryDiffers(ctx context.Context) (bool, error) {
	src := e.Binary
	if src == "" {
		return false, nil
	}
	res, err := e.Runner.Run(ctx, host.Command{Args: gpart.SHA256Argv(src, hookBinary)})
	if err != nil {
		return false, err
	}
	sums, perr := gpart.ParseSHA256(string(res.Stdout))
	want := sums[src]
	if perr != nil || want == "" {
		why := "it cannot be read"
		if failed, err := gpart.ParseSHA256Errors(string(res.Stderr)); err == nil && failed[src] != "" {
			why = failed[src]
		}
		return false, fmt.Errorf("cannot read the running zupgrade (%s: %s) to copy it to %s for the boot hook: put zupgrade in %s and run it from there", src, why, hookBinary, hookBinary)
	}
	return sums[hookBinary] != want, nil
}

// hookBinaryPackaged refuses a hookBinary that a package installed: it is
// the package's file, which zupgrade never overwrites.
func (e *Engine) hookBinaryPackaged(ctx context.Context) error {
	if owner := e.packageOf(ctx, hookBinary); owner != "" {
		return fmt.Errorf("%s belongs to the package %s and is not the zupgrade running (%s): the boot hook resumes the run with %s, and zupgrade never overwrites a package's file; run %s apply instead, or update the package to this zupgrade", hookBinary, owner, e.Binary, hookBinary, hookBinary)
	}
	return nil
}

// checkHookBinaryFirst refuses, before a run changes anything, a run that
// would reach a reboot checkpoint with a zupgrade other than the packaged
// hookBinary (hookBinaryPackaged). A zupgrade that cannot be read is the
// checkpoint's to report, as is a copy that fails. A resumed run is the
// boot hook's, which runs hookBinary itself.
func (e *Engine) checkHookBinaryFirst(ctx context.Context, j *Journal) error {
	if e.Resume {
		return nil
	}
	for i, s := range j.Plan.Steps {
		if s.Checkpoint && j.Steps[i].State != StepDone && j.Steps[i].State != StepSkipped {
			if differs, err := e.hookBinaryDiffers(ctx); err != nil || !differs {
				return nil
			}
			return e.hookBinaryPackaged(ctx)
		}
	}
	return nil
}

// hookPackaged reports whether a package installed the rc.d script. A
// package's script is the package's to install and to remove; a run only
// enables and disables it.
func (e *Engine) hookPackaged(ctx context.Context) bool {
	return e.packageOf(ctx, rcScript) != ""
}

// packageOf returns the package that installed file, as pkg's database
// names it (pkg which -q: name-version), or "" when none did. Without pkg
// (not bootstrapped: pkg -N fails) no package installed it.
func (e *Engine) packageOf(ctx context.Context, file string) string {
	probe := func(args ...string) (host.Result, bool) {
		res, err := e.Runner.Run(ctx, host.Command{Args: args})
		return res, err == nil && res.OK()
	}
	if _, ok := probe(pkgng.ActivationArgs()...); !ok {
		return ""
	}
	res, ok := probe("pkg", "which", "-q", file)
	if !ok {
		return ""
	}
	return strings.TrimSpace(string(res.Stdout))
}

// hookVars are the variables of /etc/rc.conf.d/zupgrade a run sets.
var hookVars = []string{"zupgrade_enable", "zupgrade_state_dir", "zupgrade_log_dir"}

// unhook returns the commands that remove what is left of the boot hook:
// the variables set in /etc/rc.conf.d/zupgrade (or that file, where the
// host has no sysrc), a zupgrade_enable in /etc/rc.conf (where earlier
// zupgrade versions set it), and the rc.d script unless a package installed it.
// Only what is there is removed, so that finishing twice is harmless.
func (e *Engine) unhook(ctx context.Context, f *facts.Facts) []Cmd {
	ok := func(args ...string) bool {
		res, err := e.Runner.Run(ctx, host.Command{Args: args})
		return err == nil && res.OK()
	}
	var cs []Cmd
	if hasSysrc(f) {
		unset := &Sysrc{File: rcConfD, Remove: true}
		for _, v := range hookVars {
			if ok("sysrc", "-f", rcConfD, "-n", v) {
				unset.Vars = append(unset.Vars, RCVar{Name: v})
			}
		}
		if len(unset.Vars) > 0 {
			cs = append(cs, cmdFor(unset, Cond{}))
		}
		if ok("sysrc", "-n", "zupgrade_enable") {
			cs = append(cs, cmdFor(&Sysrc{Vars: []RCVar{{Name: "zupgrade_enable"}}, Remove: true}, Cond{}))
		}
	} else if ok("ls", "-1", rcConfD) {
		cs = append(cs, cmdFor(&RemoveFile{Path: rcConfD}, Cond{}))
	}
	if !e.hookPackaged(ctx) && ok("ls", "-1", rcScript) {
		cs = append(cs, cmdFor(&RemoveFile{Path: rcScript}, Cond{}))
	}
	return cs
}
