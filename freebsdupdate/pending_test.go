// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/internal/transcript"
)

func TestBDHash(t *testing.T) {
	if got := BDHash("/"); got != RootBDHash {
		t.Errorf("BDHash(/) = %s, want %s", got, RootBDHash)
	}
	if RootBDHash != "f465c3739385890c221dff1a05e578c6cae0d0430e46996d319db7439f884336" {
		t.Errorf("RootBDHash changed: %s", RootBDHash)
	}
	if BDHash("/mnt") == RootBDHash {
		t.Error("BDHash(/mnt) equals the hash of /")
	}
	if got, want := InstallLink(WorkDir, "/"), "/var/db/freebsd-update/"+RootBDHash+"-install"; got != want {
		t.Errorf("InstallLink = %s, want %s", got, want)
	}
	if got := strings.Join(ListingCommand(WorkDir, "/"), " "); got != "ls -1 /var/db/freebsd-update/"+RootBDHash+"-install/" {
		t.Errorf("ListingCommand = %s", got)
	}
}

func TestWorkdirFixtureNamesTheRootInstallLink(t *testing.T) {
	// The workdir listing of a real host holds the install link under
	// the hash of "/".
	text := transcript.Read(t, "var-db-freebsd-update-workdir-listing.txt")
	if !strings.Contains(text, " "+RootBDHash+"-install -> install.") {
		t.Error("the fixture does not show <BDHASH>-install for /")
	}
}

func TestParseInstallDirAndPhase(t *testing.T) {
	tests := []struct {
		name      string
		listing   string
		pending   bool
		want      InstallDir
		wantPhase Phase
		wantErr   error
	}{
		{name: "nothing pending", listing: "", pending: false, wantPhase: PhaseNone},
		{name: "fetch", listing: "INDEX-NEW\nINDEX-OLD\n", pending: true,
			want: InstallDir{IndexOld: true, IndexNew: true}, wantPhase: PhaseUpdateFetched},
		{name: "upgrade fetched", listing: "INDEX-NEW\nINDEX-OLD\nkernelfirst\n", pending: true,
			want: InstallDir{KernelFirst: true, IndexOld: true, IndexNew: true}, wantPhase: PhaseUpgradeFetched},
		{name: "kernel installed", listing: "INDEX-NEW\nINDEX-OLD\nkerneldone\nkernelfirst\n", pending: true,
			want: InstallDir{KernelFirst: true, KernelDone: true, IndexOld: true, IndexNew: true}, wantPhase: PhaseKernelInstalled},
		{name: "world installed", listing: "INDEX-NEW\nINDEX-OLD\nkerneldone\nkernelfirst\nworlddone\n", pending: true,
			want: InstallDir{KernelFirst: true, KernelDone: true, WorldDone: true, IndexOld: true, IndexNew: true}, wantPhase: PhaseWorldInstalled},
		{name: "patch install interrupted after the kernel", listing: "INDEX-NEW\nINDEX-OLD\nkerneldone", pending: true,
			want: InstallDir{KernelDone: true, IndexOld: true, IndexNew: true}, wantPhase: PhaseKernelInstalled},
		{name: "older rollback kept inside", listing: "INDEX-NEW\nINDEX-OLD\nkernelfirst\nrollback\n", pending: true,
			want: InstallDir{KernelFirst: true, IndexOld: true, IndexNew: true, Other: []string{"rollback"}}, wantPhase: PhaseUpgradeFetched},
		{name: "corrupt manifest", listing: "INDEX-OLD\nkernelfirst\n", pending: true,
			want: InstallDir{KernelFirst: true, IndexOld: true}, wantErr: ErrCorruptManifest},
		{name: "listing ignored when nothing pending", listing: "INDEX-OLD\n", pending: false,
			want: InstallDir{IndexOld: true}, wantPhase: PhaseNone},
	}
	cmd := strings.Join(ListingCommand(WorkDir, "/"), " ")
	for _, tt := range tests {
		d, err := ParseInstallDir(cmd, []byte(tt.listing))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, d); diff != "" {
			t.Errorf("%s: InstallDir (-want +got):\n%s", tt.name, diff)
		}
		phase, err := PendingPhase(tt.pending, d)
		if !errors.Is(err, tt.wantErr) || phase != tt.wantPhase {
			t.Errorf("%s: PendingPhase = %s, %v; want %s, %v", tt.name, phase, err, tt.wantPhase, tt.wantErr)
		}
	}
}

func TestParseInstallDirErrors(t *testing.T) {
	for _, in := range []string{
		"INDEX-NEW\n\nINDEX-OLD\n",
		"ls: /var/db/freebsd-update/x-install/: No such file or directory\n",
		"total 8\n-rw-r--r--  1 root  wheel  0 Jan 17 11:13 kerneldone\n" + "/x\n",
	} {
		_, err := ParseInstallDir("ls -1 DIR/", []byte(in))
		var pe *host.ParseError
		if !errors.As(err, &pe) || pe.Line == 0 {
			t.Errorf("ParseInstallDir(%q) = %v, want a *host.ParseError with a line", in, err)
		}
	}
}

func TestParseUpdatesReady(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		exit    int
		want    bool
		wantErr bool
		errIs   error
	}{
		{name: "pending", out: "There are updates available to install.\nRun 'freebsd-update [options] install' to proceed.\n", exit: 0, want: true},
		{name: "none", out: "No updates are available to install.\n", exit: 2},
		{name: "none, workdir missing", out: "No updates are available to install.\n", exit: 2},
		{name: "old script prints usage", out: "usage: freebsd-update [options] command ... [path]\n\nOptions:\n", exit: 0, wantErr: true, errIs: ErrNoUpdatesReadyCommand},
		{name: "exit 0, nothing said", out: "", exit: 0, wantErr: true},
		{name: "failure", out: "freebsd-update is incompatible with the use of packaged base.\n", exit: 1, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseUpdatesReady([]byte(tt.out), tt.exit)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
		if tt.errIs != nil && !errors.Is(err, tt.errIs) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.errIs)
		}
	}
	if got := strings.Join(UpdatesReadyArgs, " "); got != "freebsd-update updatesready" {
		t.Errorf("UpdatesReadyArgs = %s", got)
	}
}

const sampleHash = "5e5f2b3bfd2ec8ca9af97b7df6b4b5b8f1bd5a4a4c5ef5f1b0f04a1c2d3e4f50"

func TestParseTag(t *testing.T) {
	tests := []struct {
		in   string
		want Tag
	}{
		{"freebsd-update|amd64|14.2-RELEASE|0|" + sampleHash + "|1767139200\n",
			Tag{Arch: "amd64", Release: MustParseRelease("14.2-RELEASE"), IndexHash: sampleHash, EndOfLife: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}},
		{"freebsd-update|arm64|14.1-RELEASE|6|" + sampleHash + "|1759276800",
			Tag{Arch: "arm64", Release: MustParseRelease("14.1-RELEASE-p6"), IndexHash: sampleHash, EndOfLife: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}},
		{"freebsd-update|amd64|15.0-BETA2|0|" + sampleHash + "|1798761600\n",
			Tag{Arch: "amd64", Release: MustParseRelease("15.0-BETA2"), IndexHash: sampleHash, EndOfLife: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		got, err := ParseTag([]byte(tt.in))
		if err != nil {
			t.Errorf("ParseTag(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseTag(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if TagPath(WorkDir) != "/var/db/freebsd-update/tag" {
		t.Errorf("TagPath = %s", TagPath(WorkDir))
	}
}

func TestParseTagErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"freebsd-update|amd64|14.2-RELEASE|0|" + sampleHash,
		"portsnap|amd64|14.2-RELEASE|0|" + sampleHash + "|1767139200",
		"freebsd-update||14.2-RELEASE|0|" + sampleHash + "|1767139200",
		"freebsd-update|amd64|14.2-RELEASE-p1|0|" + sampleHash + "|1767139200",
		"freebsd-update|amd64|14.2|0|" + sampleHash + "|1767139200",
		"freebsd-update|amd64|14.2-RELEASE|x|" + sampleHash + "|1767139200",
		"freebsd-update|amd64|14.2-RELEASE|0|" + strings.ToUpper(sampleHash) + "|1767139200",
		"freebsd-update|amd64|14.2-RELEASE|0|abc|1767139200",
		"freebsd-update|amd64|14.2-RELEASE|0|" + sampleHash + "|17671392",
		"freebsd-update|amd64|14.2-RELEASE|0|" + sampleHash + "|1767139200\nfreebsd-update|amd64|14.2-RELEASE|0|" + sampleHash + "|1767139200",
		"cat: /var/db/freebsd-update/tag: No such file or directory",
	} {
		_, err := ParseTag([]byte(in))
		var pe *host.ParseError
		if !errors.As(err, &pe) || pe.Command != TagCommand {
			t.Errorf("ParseTag(%q) = %v, want a *host.ParseError for %q", in, err, TagCommand)
		}
	}
}

func FuzzParseTag(f *testing.F) {
	f.Add("freebsd-update|amd64|14.2-RELEASE|0|" + sampleHash + "|1767139200\n")
	f.Add("freebsd-update|arm64|14.1-RELEASE|6|" + sampleHash + "|1759276800")
	f.Fuzz(func(t *testing.T, s string) {
		tag, err := ParseTag([]byte(s))
		if err != nil {
			var pe *host.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *host.ParseError", err)
			}
			return
		}
		if tag.Release.IsZero() || tag.Arch == "" || len(tag.IndexHash) != 64 {
			t.Fatalf("ParseTag(%q) = %+v", s, tag)
		}
	})
}

func FuzzParseInstallDir(f *testing.F) {
	f.Add("INDEX-NEW\nINDEX-OLD\nkerneldone\nkernelfirst\n")
	f.Add("INDEX-NEW\nINDEX-OLD\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseInstallDir("ls -1 DIR/", []byte(s))
		if err != nil {
			var pe *host.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *host.ParseError", err)
			}
			return
		}
		for _, name := range d.Other {
			if name == "" || strings.Contains(name, "/") {
				t.Fatalf("bad name %q in %+v", name, d)
			}
		}
		if _, err := PendingPhase(true, d); err != nil && !errors.Is(err, ErrCorruptManifest) {
			t.Fatalf("PendingPhase: %v", err)
		}
	})
}

func FuzzParseUpdatesReady(f *testing.F) {
	f.Add("There are updates available to install.\nRun 'freebsd-update [options] install' to proceed.\n", 0)
	f.Add("No updates are available to install.\n", 2)
	f.Add("usage: freebsd-update [options] command ... [path]\n", 0)
	f.Fuzz(func(t *testing.T, s string, exit int) {
		pending, err := ParseUpdatesReady([]byte(s), exit)
		if pending && (err != nil || exit != 0) {
			t.Fatalf("pending with exit %d, error %v", exit, err)
		}
		if exit == 2 && (pending || err != nil) {
			t.Fatalf("exit 2 must mean nothing pending: %v, %v", pending, err)
		}
	})
}
