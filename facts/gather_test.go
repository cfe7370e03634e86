// SPDX-License-Identifier: BSD-2-Clause

package facts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zupgrade/zupgrade/host"
)

func replay(t *testing.T, example string) *host.Replay {
	t.Helper()
	name := filepath.Join("..", "examples", example+".txtar")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := host.ParseCapture(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func gather(t *testing.T, example string) *Facts {
	t.Helper()
	f, err := Gather(context.Background(), replay(t, example))
	if err != nil {
		t.Fatalf("%s: %v", example, err)
	}
	return f
}

func TestGatherMirrorBIOSUEFI(t *testing.T) {
	f := gather(t, "mirror-bios-uefi")
	if f.BootMethod != "UEFI" || f.BootPool != "zroot" || f.RootDataset != "zroot/ROOT/default" || f.Release.Running != "14.1-RELEASE-p6" {
		t.Errorf("host: %+v %+v", f.BootMethod, f.Release)
	}
	var members []string
	for _, m := range f.Pools[0].Members {
		members = append(members, m.Name+"="+m.Partition+"@"+m.Disk)
	}
	if diff := cmp.Diff([]string{"gpt/zfs0=ada0p4@ada0", "gpt/zfs1=ada1p4@ada1", "gpt/zfs2=ada2p4@ada2"}, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	var esps []string
	for _, d := range f.Disks {
		if len(d.BootPartitions) != 1 || d.BootPartitions[0].Index != 2 {
			t.Errorf("%s: boot partitions %+v", d.Name, d.BootPartitions)
		}
		for _, e := range d.ESPs {
			esps = append(esps, strings.Join([]string{e.Name, e.Format, e.MountPoint, e.Loader, e.Fallback}, ","))
		}
	}
	want := []string{
		"ada0p1,fat,/boot/efi,differs,differs",
		"ada1p1,fat,,unknown,unknown",
		"ada2p1,empty,,unknown,unknown",
	}
	if diff := cmp.Diff(want, esps); diff != "" {
		t.Errorf("ESPs (-want +got):\n%s", diff)
	}
	if f.EFI == nil || f.EFI.BootCurrent != "0004" {
		t.Errorf("efibootmgr: %+v", f.EFI)
	}
	if !f.BootEnvs.Supported || f.Update.Pending || f.Update.MetadataPattern != "current" || f.Update.NoCronOption {
		t.Errorf("boot environments %+v, update %+v", f.BootEnvs, f.Update)
	}
}

func TestGatherLegacy82(t *testing.T) {
	f := gather(t, "legacy-8.2")
	if f.BootEnvs.Tool != "" || f.Pkg.Activated || f.BootMethod != "" {
		t.Errorf("bectl %q, pkg %v, boot method %q", f.BootEnvs.Tool, f.Pkg.Activated, f.BootMethod)
	}
	if f.Update.MetadataPattern != "old" || !f.Update.NoCronOption {
		t.Errorf("update %+v", f.Update)
	}
	if f.Release.Kernel != "8.2-RELEASE" || len(f.Warnings) == 0 {
		t.Errorf("release %+v, warnings %q", f.Release, f.Warnings)
	}
}

func TestGatherDegraded(t *testing.T) {
	f := gather(t, "degraded-mirror")
	p := f.Pools[0]
	if p.State != "DEGRADED" || len(p.Problems) == 0 {
		t.Errorf("pool %s, problems %q", p.State, p.Problems)
	}
	missing := p.Members[1]
	if missing.Was != "/dev/ada1p4" || missing.Disk != "" || !strings.Contains(missing.Error, "ada1p4") {
		t.Errorf("missing member %+v", missing)
	}
}

// mangled answers one command with output no parser can read.
type mangled struct {
	next host.Runner
	line string
}

func (m mangled) Run(ctx context.Context, cmd host.Command) (host.Result, error) {
	res, err := m.next.Run(ctx, cmd)
	if cmd.Line() == m.line {
		res.Stdout = []byte("this is not what " + m.line + " prints\n")
	}
	return res, err
}

func TestGatherUnparseable(t *testing.T) {
	for _, line := range []string{"zpool status", "gpart list", "freebsd-version -kru"} {
		_, err := Gather(context.Background(), mangled{next: replay(t, "bios-mirror"), line: line})
		var pe *host.ParseError
		if !errors.As(err, &pe) || pe.Command != line {
			t.Errorf("%s mangled: err = %v, want a parse error naming it", line, err)
		}
	}
}
