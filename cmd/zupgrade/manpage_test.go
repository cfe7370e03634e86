// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/steps"
)

// manPage reads docs/zupgrade.8.
func manPage(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../docs/zupgrade.8")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// manSection returns the lines of the page's section .Sh name, up to the
// next section.
func manSection(page, name string) string {
	_, rest, ok := strings.Cut(page, "\n.Sh "+name+"\n")
	if !ok {
		return ""
	}
	sec, _, _ := strings.Cut(rest, "\n.Sh ")
	return sec
}

// manCommand returns the entry of command name in the page's list of
// commands: from its ".It Cm name" line to the next command's.
func manCommand(page, name string) string {
	_, rest, ok := strings.Cut(page, "\n.It Cm "+name)
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\n') {
		return ""
	}
	entry, _, _ := strings.Cut(rest, "\n.It Cm ")
	entry, _, _ = strings.Cut(entry, "\n.Ss ")
	return entry
}

// mentionsFlag reports whether mdoc text names the flag called name with
// an Fl macro (".Fl -state-dir", "Oo Fl -json Oc", ".Fl o").
func mentionsFlag(text, name string) bool {
	if len(name) > 1 {
		name = "-" + name
	}
	return regexp.MustCompile(`(?m)(^\.|\s)Fl ` + regexp.QuoteMeta(name) + `(\s|$)`).MatchString(text)
}

func testApp() *cli.App {
	return newApp(Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}, log.New(io.Discard))
}

// TestManPageCoversCommandLine fails when a command or an option of the
// command line is missing from docs/zupgrade.8, so the page cannot drift.
func TestManPageCoversCommandLine(t *testing.T) {
	page := manPage(t)
	desc := manSection(page, "DESCRIPTION")
	if desc == "" {
		t.Fatal("the man page has no DESCRIPTION section")
	}
	global, _, _ := strings.Cut(desc, "\n.It Cm ")
	app := testApp()
	for _, f := range append(append([]cli.Flag{}, app.Flags...), cli.HelpFlag, cli.VersionFlag) {
		for _, n := range f.Names() {
			if !mentionsFlag(global, n) {
				t.Errorf("global option %q is not in the global options of docs/zupgrade.8", n)
			}
		}
	}
	synopsis := manSection(page, "SYNOPSIS")
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		if !strings.Contains(synopsis, "\n.Cm "+c.Name+"\n") {
			t.Errorf("command %s is not in the SYNOPSIS of docs/zupgrade.8", c.Name)
		}
		entry := manCommand(desc, c.Name)
		if entry == "" {
			t.Errorf("command %s has no .It Cm %s entry in the DESCRIPTION of docs/zupgrade.8", c.Name, c.Name)
			continue
		}
		for _, f := range c.Flags {
			if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
				continue // the global options, accepted after the command too
			}
			for _, n := range f.Names() {
				if !mentionsFlag(entry, n) {
					t.Errorf("option %q of %s is not in its entry in docs/zupgrade.8", n, c.Name)
				}
			}
		}
	}
}

// TestManPageExitStatusAndEnvironment checks that every exit code and the
// environment variables zupgrade reads are documented.
func TestManPageExitStatusAndEnvironment(t *testing.T) {
	page := manPage(t)
	exits := manSection(page, "EXIT STATUS")
	for _, code := range []int{ExitOK, ExitFailed, ExitUsage, ExitCheckpoint, ExitBlocked, ExitLocked, ExitStale, ExitInterrupted} {
		if !strings.Contains(exits, "\n.It "+strconv.Itoa(code)+"\n") {
			t.Errorf("exit status %d is not in the EXIT STATUS of docs/zupgrade.8", code)
		}
	}
	env := manSection(page, "ENVIRONMENT")
	if !strings.Contains(env, ".It Ev ZUPGRADE_STATE_DIR\n") {
		t.Error("ZUPGRADE_STATE_DIR is not in the ENVIRONMENT of docs/zupgrade.8")
	}
	files := manSection(page, "FILES")
	for _, p := range []string{steps.DefaultStateDir, "/usr/local/etc/rc.d/zupgrade"} {
		if !strings.Contains(files, ".It Pa "+p+"\n") {
			t.Errorf("%s is not in the FILES of docs/zupgrade.8", p)
		}
	}
}

// TestHelpPointsAtManPage checks that the help names zupgrade(8) and no
// path of the source repository, which an installed zupgrade lacks.
func TestHelpPointsAtManPage(t *testing.T) {
	app := testApp()
	if !strings.Contains(app.Description, "zupgrade(8)") {
		t.Errorf("zupgrade --help does not point at zupgrade(8):\n%s", app.Description)
	}
	texts := []string{app.Description, app.Usage}
	for _, f := range app.Flags {
		texts = append(texts, f.String())
	}
	for _, c := range app.Commands {
		texts = append(texts, c.Usage, c.Description)
		for _, f := range c.Flags {
			texts = append(texts, f.String())
		}
	}
	for _, s := range texts {
		if strings.Contains(s, "docs/") {
			t.Errorf("help text names a path of the source repository: %q", s)
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {}} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"zupgrade"}, args...), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
		if code != ExitOK || !strings.Contains(out.String(), "zupgrade(8)") || strings.Contains(out.String(), "\n   help") {
			t.Errorf("zupgrade %q: exit %d, want 0 and the usage naming zupgrade(8) (and no help command listed):\n%s%s", args, code, out.String(), errb.String())
		}
	}
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"zupgrade", "help", "plan"}, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard}); code != ExitOK || !strings.Contains(out.String(), "--to RELEASE") {
		t.Errorf("zupgrade help plan: exit %d, want 0 and plan's options:\n%s", code, out.String())
	}
}
