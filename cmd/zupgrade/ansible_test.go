// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// recap reads ansible-playbook's PLAY RECAP: host -> counter -> value.
func recap(out string) map[string]map[string]string {
	hosts := map[string]map[string]string{}
	_, rec, _ := strings.Cut(out, "PLAY RECAP")
	line := regexp.MustCompile(`(?m)^(\S+)\s+:\s+(.*)$`)
	kv := regexp.MustCompile(`(\w+)=(\d+)`)
	for _, m := range line.FindAllStringSubmatch(rec, -1) {
		hosts[m[1]] = map[string]string{}
		for _, c := range kv.FindAllStringSubmatch(m[2], -1) {
			hosts[m[1]][c[1]] = c[2]
		}
	}
	return hosts
}

// TestAnsibleRole runs contrib/ansible's playbook and role with
// ansible-playbook (local connection) on three simulated hosts in batches
// of two, the reboot task booting the simulated host: a host whose boot
// pool is degraded stops alone with the blocking check, the others end on
// the target release. Check mode first runs plan only; a second run
// changes nothing.
func TestAnsibleRole(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades through Ansible; not in -short")
	}
	playbookBin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ansible-playbook is not installed (.ci/run installs ansible-core)")
		}
		t.Skip("ansible-playbook is not installed")
	}
	zup, sim := binaries(t)
	const from, to = "14.2-RELEASE", "14.3-RELEASE"
	dir := t.TempDir()

	// The reboot task of the role, overridden: the simulated host boots
	// (and its rc.d script resumes the run, as on a real host).
	rebootTasks := filepath.Join(dir, "simhost-reboot.yml")
	if err := os.WriteFile(rebootTasks, []byte(`---
- name: Boot the simulated host
  ansible.builtin.command:
    argv: ["{{ simhost_bin }}", "boot", "--root", "{{ simhost_root }}"]
- name: Wait for the run the boot hook detached
  ansible.builtin.command:
    argv: ["{{ simhost_bin }}", "wait", "--root", "{{ simhost_root }}"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	names := []string{"blocked", "web1", "web2"}
	hosts := map[string]*testHost{}
	inv := map[string]any{}
	for _, name := range names {
		h := newHost(t, simhost.Spec{Preset: "bios", Release: from, Disks: 2})
		hosts[name] = h
		path := h.m.HostPath("/usr/local/sbin/zupgrade")
		inv[name] = map[string]any{
			"ansible_connection":         "local",
			"ansible_python_interpreter": "{{ ansible_playbook_python }}",
			"ansible_become":             false,
			"zupgrade_binary_src":        zup,
			"zupgrade_path":              path,
			"zupgrade_state_dir":         h.state,
			"zupgrade_environment":       map[string]string{"PATH": strings.TrimPrefix(h.m.Env()[0], "PATH="), simhost.RootEnv: h.m.Root},
			"zupgrade_reboot_tasks":      rebootTasks,
			"simhost_bin":                sim,
			"simhost_root":               h.m.Root,
		}
		// Check mode copies nothing: newHost put zupgrade there as the
		// package would.
	}
	if err := hosts["blocked"].m.RemoveDisk("ada1"); err != nil {
		t.Fatal(err)
	}
	invData, _ := json.Marshal(map[string]any{"freebsd": map[string]any{"hosts": inv}})
	invFile := filepath.Join(dir, "inventory.json")
	if err := os.WriteFile(invFile, invData, 0o600); err != nil {
		t.Fatal(err)
	}
	contrib, err := filepath.Abs("../../contrib/ansible")
	if err != nil {
		t.Fatal(err)
	}
	playbook := func(args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(playbookBin, append([]string{"-i", invFile, filepath.Join(contrib, "playbook.yml"), "-e", "zupgrade_to=" + to}, args...)...)
		cmd.Env = append(os.Environ(),
			"HOME="+dir, "ANSIBLE_HOME="+filepath.Join(dir, "ansible"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "ansible/tmp"),
			"ANSIBLE_REMOTE_TEMP="+filepath.Join(dir, "ansible/remote"), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0",
			"ANSIBLE_ROLES_PATH="+filepath.Join(contrib, "roles"), "ANSIBLE_RETRY_FILES_ENABLED=0", "LC_ALL=C.UTF-8")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	blockedReason := "the pool is DEGRADED"

	// Check mode: plan only, nothing changes; the blocked host fails.
	code, out := playbook("--check")
	if code != 2 {
		t.Fatalf("ansible-playbook --check: exit %d, want 2 (a host failed):\n%s", code, out)
	}
	if !strings.Contains(out, "Install the new kernel") || !strings.Contains(out, blockedReason) {
		t.Errorf("check mode shows no plan, or not the blocking check:\n%s", out)
	}
	for _, name := range names {
		if j := hosts[name].journal(); j != nil {
			t.Errorf("%s: check mode started a run (%s)", name, j.Status)
		}
		if got := hosts[name].sh("freebsd-version", "-u"); got != from+"\n" {
			t.Errorf("%s: check mode changed the release to %q", name, got)
		}
	}

	// The run: batches of two, the blocked host stops alone.
	code, out = playbook()
	if code != 2 {
		t.Fatalf("ansible-playbook: exit %d, want 2 (one host failed):\n%s", code, out)
	}
	if n := strings.Count(out, "\nPLAY [Upgrade FreeBSD hosts with zupgrade]"); n != 2 {
		t.Errorf("%d batches, want 2 (serial 2 over 3 hosts):\n%s", n, out)
	}
	rec := recap(out)
	if rec["blocked"]["failed"] != "1" || !regexp.MustCompile(`(?s)fatal: \[blocked\].*is blocked on blocked: .*\[pool-health\] boot pool healthy.*`+regexp.QuoteMeta(blockedReason)).MatchString(out) {
		t.Errorf("the blocked host did not fail with the blocking check (recap %v):\n%s", rec["blocked"], out)
	}
	if j := hosts["blocked"].journal(); j != nil {
		t.Errorf("the blocked host has a run (%s)", j.Status)
	}
	for _, name := range names[1:] {
		h := hosts[name]
		if rec[name]["failed"] != "0" || rec[name]["changed"] == "0" {
			t.Errorf("%s: recap %v, want changed and not failed:\n%s", name, rec[name], out)
		}
		if j := h.journal(); j == nil || j.Status != steps.StatusDone {
			t.Errorf("%s: the run is not done: %+v", name, j)
		}
		if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat(to+"\n", 3) {
			t.Errorf("%s: freebsd-version -kru = %q, want %s", name, got, to)
		}
		h.assertBootsEverywhere(to)
	}
	if !strings.Contains(out, "web1: "+from+" -> "+to) {
		t.Errorf("no report of the upgrade:\n%s", out)
	}

	// Again: nothing to do on the upgraded hosts.
	code, out = playbook()
	if code != 2 {
		t.Fatalf("second ansible-playbook: exit %d, want 2 (the blocked host):\n%s", code, out)
	}
	rec = recap(out)
	for _, name := range names[1:] {
		if rec[name]["failed"] != "0" || rec[name]["changed"] != "0" {
			t.Errorf("second run on %s: recap %v, want nothing changed:\n%s", name, rec[name], out)
		}
	}
}
