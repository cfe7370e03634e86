// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/host"
)

// grepHost answers freebsd-update's quirk probe with the lines of a
// fixture (the grep of a real script) and records what else ran.
type grepHost struct {
	out []byte
	ran []string
}

func (g *grepHost) Run(_ context.Context, c host.Command) (host.Result, error) {
	if c.Line() == freebsdupdate.QuirkProbeCommand().Line() {
		return host.Result{Stdout: g.out}, nil
	}
	g.ran = append(g.ran, c.Line())
	return host.Result{}, nil
}

// fixtureLines reads a probe fixture of package freebsdupdate without its
// comment lines.
func fixtureLines(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "freebsdupdate", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "#") && l != "" {
			keep = append(keep, l)
		}
	}
	return []byte(strings.Join(keep, "\n") + "\n")
}

// TestQuirkStep: the metadata path step is done on a script that has the
// fixed pattern and not on an 8.2 one, which it patches by its operations
// (a copy of the script kept in the state directory, then sed).
func TestQuirkStep(t *testing.T) {
	for _, c := range []struct {
		fixture string
		done    bool
	}{{"quirk-probe-8.2-old-pattern.txt", false}, {"quirk-probe-14.1-no-libsys.txt", true}} {
		g := &grepHost{out: fixtureLines(t, c.fixture)}
		f := &facts.Facts{}
		f.Update.MetadataPattern = "old"
		b := builder{f: f, opts: Options{StateDir: "/var/db/zupgrade"}}
		sc := &stepContext{e: &Engine{Runner: g}, plan: &Plan{}, step: quirkStep{}.plan(b)}
		done, err := quirkStep{}.done(sc, context.Background())
		if err != nil || done != c.done {
			t.Errorf("%s: done = %v, %v; want %v", c.fixture, done, err, c.done)
		}
		if err := (quirkStep{}).run(sc, context.Background()); err != nil {
			t.Fatal(err)
		}
		want := "mkdir -p /var/db/zupgrade/backup|cp -p /usr/sbin/freebsd-update /var/db/zupgrade/backup/freebsd-update.orig|sed -i '' -e s/=_/=%@_/ /usr/sbin/freebsd-update"
		if got := strings.Join(g.ran, "|"); got != want {
			t.Errorf("ran %s, want %s", got, want)
		}
	}
}
