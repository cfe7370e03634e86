// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// realZFSOutput reads a zpool/testdata fixture that real OpenZFS 2.3
// printed in the vmtest Linux guest (TestRealOpenZFSGuest), without its
// "#" header lines.
func realZFSOutput(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "zpool", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	for bytes.HasPrefix(data, []byte("#")) {
		i := bytes.IndexByte(data, '\n')
		data = data[i+1:]
	}
	return data
}

// guids are the vdev GUIDs the plan prints, which differ between the
// hand-written capture and the real pool.
var guids = regexp.MustCompile(`\b[0-9]{15,20}\b`)

// TestPlanBlocksOnRealDegradedMirror: the degraded-mirror example with its
// pool probes replaced by what real OpenZFS printed for the same shape (a
// bsdinstall mirror imported from ada0 alone, ada1p4 gone, features
// upgraded) must give the same plan: blocked on the pool, naming the
// missing member, nothing to run (plan --replay never touches a host).
func TestPlanBlocksOnRealDegradedMirror(t *testing.T) {
	capture := filepath.Join("..", "..", "examples", "degraded-mirror.txtar")
	plan := func(t *testing.T, path string) string {
		t.Helper()
		var out, errb bytes.Buffer
		env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: []string{"ZUPGRADE_STATE_DIR=/var/db/zupgrade"}}
		code := Main(context.Background(), []string{"zupgrade", "plan", "--replay", path, "--to", "14.2-RELEASE"}, env)
		if code != ExitBlocked {
			t.Fatalf("plan --replay %s: exit %d, want %d (blocked)\n%s%s", path, code, ExitBlocked, out.String(), errb.String())
		}
		return guids.ReplaceAllString(timestamps.ReplaceAllString(out.String(), "TIME"), "GUID")
	}
	a, err := txtar.ParseFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	replaced := map[string]bool{}
	for i, f := range a.Files {
		var name string
		switch f.Name {
		case "zpool status":
			name = "openzfs-2.3-guest-zpool-status-degraded-ada1p4-absent.txt"
		case "zpool get -H -p all":
			name = "openzfs-2.3-guest-zpool-get-Hp-upgraded-degraded.txt"
		case "zpool upgrade":
			name = "openzfs-2.3-guest-zpool-upgrade-noargs-all-enabled.txt"
		case "zfs upgrade":
			name = "openzfs-2.3-guest-zfs-upgrade-noargs-current.txt"
		default:
			continue
		}
		a.Files[i].Data = realZFSOutput(t, name)
		replaced[f.Name] = true
	}
	if len(replaced) != 4 {
		t.Fatalf("the capture lacks pool probes: replaced only %v", replaced)
	}
	real := filepath.Join(t.TempDir(), "degraded-mirror-real-zfs.txtar")
	if err := os.WriteFile(real, txtar.Format(a), 0o644); err != nil {
		t.Fatal(err)
	}
	got := plan(t, real)
	for _, want := range []string{
		"[block] boot pool healthy, every member ONLINE: pool zroot: the pool is DEGRADED",
		"missing device GUID (last seen as /dev/ada1p4) in mirror-0 is UNAVAIL",
		`[block] boot partitions on every boot-pool disk: member GUID: cannot find the partition of pool member "GUID was /dev/ada1p4"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the plan on real OpenZFS output lacks %q:\n%s", want, got)
		}
	}
	// Beyond the pool's own lines (its free space, which the test disk's
	// 640 MiB pool lacks, and what zpool upgrade lists) the plan is the
	// one of the hand-written capture.
	hand := plan(t, capture)
	keep := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, "free space on the boot pool") && !strings.Contains(l, "fix: free at least") && !strings.Contains(l, "zpool upgrade") && !strings.Contains(l, "feature") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if a, b := keep(hand), keep(got); a != b {
		t.Errorf("the plans differ beyond the pool's lines:\n%s", lineDiff(a, b))
	}
}
