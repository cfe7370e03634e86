// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Outcome is the end state of a machine, as the judge reads it. Two
// back-ends that ran the same scenario must observe the same Outcome.
type Outcome struct {
	Kernel  string `json:"kernel"`
	World   string `json:"world"`
	Pool    string `json:"pool"`
	Journal string `json:"journal"`
	// Message is the journal's message (why a run failed).
	Message string `json:"message,omitempty"`
	// BootCode lists, per member disk present, what its freebsd-boot
	// partitions and ESP loaders hold compared with the running system's
	// /boot files: "ada0p1 current", "ada1p1 stale", "ada0p1:efi/boot/bootx64.efi current".
	BootCode []string `json:"boot_code"`
	// DiskBoots says, per disk present, the kernel the machine booted
	// when that disk was tried first, or why it did not boot.
	DiskBoots []string `json:"disk_boots"`
	// HookLeft is true when the boot hook is still installed.
	HookLeft bool `json:"hook_left,omitempty"`
	// GPTZFSBoot and LoaderEFI are the running system's /boot/gptzfsboot
	// and /boot/loader.efi, which BootCode compares with. The Linux
	// guest's host judges its disk images against them where the running
	// system's root is its real dataset, which the host cannot read.
	GPTZFSBoot []byte `json:"gptzfsboot,omitempty"`
	LoaderEFI  []byte `json:"loader_efi,omitempty"`
}

// Observe reads the machine's end state. It boots the machine from each
// disk present (without hooks), then once more normally, so it changes
// nothing a later observation would see differently.
func (mc *Machine) Observe() (*Outcome, error) {
	o := &Outcome{}
	var err error
	if o.Kernel, err = mc.sh("freebsd-version", "-k"); err != nil {
		return nil, err
	}
	if o.World, err = mc.sh("freebsd-version", "-u"); err != nil {
		return nil, err
	}
	if o.Pool, err = mc.sh("zpool", "list", "-H", "-o", "health"); err != nil {
		return nil, err
	}
	if j, err := (steps.Store{Dir: mc.StateDir}).Load(); err == nil && j != nil {
		o.Journal, o.Message = string(j.Status), j.Message
	}
	if _, err := os.Stat(mc.M.HostPath("/usr/local/etc/rc.d/zupgrade")); err == nil {
		o.HookLeft = true
	}
	gptzfsboot, _ := os.ReadFile(mc.M.HostPath("/boot/gptzfsboot"))
	loader, _ := os.ReadFile(mc.M.HostPath("/boot/loader.efi"))
	model, err := mc.M.Model()
	if err != nil {
		return nil, err
	}
	o.BootCode = BootCodeOf(model, gptzfsboot, loader)
	o.GPTZFSBoot, o.LoaderEFI = gptzfsboot, loader
	var present []string
	for _, d := range model.Disks {
		if !d.Missing {
			present = append(present, d.Name)
		}
	}
	for _, d := range present {
		rep, err := mc.M.Boot(simhost.BootOptions{FirstDisk: d, NoHooks: true})
		if err != nil {
			return nil, err
		}
		if !rep.Booted {
			o.DiskBoots = append(o.DiskBoots, fmt.Sprintf("%s: does not boot: %s", d, rep.Reason))
			continue
		}
		o.DiskBoots = append(o.DiskBoots, fmt.Sprintf("%s: %s via %s", d, rep.Kernel, rep.Disk))
	}
	if len(present) > 0 {
		if _, err := mc.M.Boot(simhost.BootOptions{NoHooks: true}); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// BootCodeOf says, per member disk present in the model, what its
// freebsd-boot partitions and ESP loaders hold compared with the running
// system's gptzfsboot and loader.efi (the lines of Outcome.BootCode).
func BootCodeOf(model *simhost.Model, gptzfsboot, loader []byte) []string {
	var out []string
	for _, d := range model.Disks {
		if d.Missing {
			continue
		}
		for _, p := range d.Partitions {
			name := fmt.Sprintf("%sp%d", d.Name, p.Index)
			switch {
			case p.Type == "freebsd-boot":
				out = append(out, name+" "+same(p.Data, gptzfsboot))
			case p.Type == "efi" && p.FAT != nil:
				n := 0
				for _, f := range p.FAT.Files {
					lp := strings.ToLower(f.Path)
					if lp == "efi/boot/bootx64.efi" || lp == "efi/freebsd/loader.efi" {
						out = append(out, name+":"+lp+" "+same(f.Data, loader))
						n++
					}
				}
				if n == 0 {
					out = append(out, name+" no loader")
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// same compares boot code as written (zero-padded) with the file it came from.
func same(written, file []byte) string {
	w := bytes.TrimRight(written, "\x00")
	f := bytes.TrimRight(file, "\x00")
	switch {
	case len(f) == 0:
		return "no reference file"
	case bytes.Equal(w, f):
		return "current"
	case len(w) == 0:
		return "empty"
	}
	return "stale"
}

// sh runs a simulated command and returns its trimmed output.
func (mc *Machine) sh(argv ...string) (string, error) {
	var out, errb bytes.Buffer
	if code := mc.M.Exec(context.Background(), argv, nil, &out, &errb, map[string]string{"LC_ALL": "C"}); code != 0 {
		return "", fmt.Errorf("%s: exit %d: %s", strings.Join(argv, " "), code, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// Check compares an outcome with the expectation and returns every
// difference, in words.
func (e Expect) Check(o *Outcome, boots int) []string {
	var bad []string
	if !strings.HasPrefix(o.Kernel, e.Kernel) {
		bad = append(bad, fmt.Sprintf("kernel %s, want %s", o.Kernel, e.Kernel))
	}
	if !strings.HasPrefix(o.World, e.World) {
		bad = append(bad, fmt.Sprintf("world %s, want %s", o.World, e.World))
	}
	if o.Pool != e.Pool {
		bad = append(bad, fmt.Sprintf("pool %s, want %s", o.Pool, e.Pool))
	}
	want := e.Journal
	if want == JournalNone {
		want = ""
	}
	if o.Journal != want {
		bad = append(bad, fmt.Sprintf("journal %q, want %q", o.Journal, e.Journal))
	}
	if e.Message != "" && !strings.Contains(o.Message, e.Message) {
		bad = append(bad, fmt.Sprintf("journal message %q, want it to say %q", o.Message, e.Message))
	}
	if e.Journal == string(steps.StatusDone) && o.HookLeft {
		bad = append(bad, "the boot hook is still installed after the run ended")
	}
	if e.BootCodeEveryMember {
		if len(o.BootCode) == 0 {
			bad = append(bad, "no boot code found on any member")
		}
		for _, b := range o.BootCode {
			if !strings.HasSuffix(b, " current") {
				bad = append(bad, "boot code: "+b)
			}
		}
	}
	if e.BootsFromEachDisk {
		want := strings.TrimSuffix(e.Kernel, "-RELEASE")
		for _, d := range o.DiskBoots {
			name, rest, _ := strings.Cut(d, ": ")
			if !strings.HasPrefix(rest, want) || !strings.HasSuffix(rest, " via "+name) {
				bad = append(bad, "boot from "+d)
			}
		}
	}
	if e.Boots != nil && boots != *e.Boots {
		bad = append(bad, fmt.Sprintf("%d boots, want %d", boots, *e.Boots))
	}
	return bad
}
