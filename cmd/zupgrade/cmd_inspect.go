// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"
	"github.com/zupgrade/zupgrade/internal/durable"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
)

type inspectOptions struct {
	JSON    bool
	Capture string
	Replay  string
}

func inspectCommand(g *globalOptions, env Env, logger *log.Logger) *cli.Command {
	opts := &inspectOptions{}
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show what the host is: release, boot method, pools, disks, boot partitions, boot environments",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the facts as JSON", Destination: &opts.JSON},
			&cli.StringFlag{Name: "capture", Usage: "also write every probe's output to `FILE` (a txtar capture that --replay reads)", TakesFile: true, Destination: &opts.Capture},
			&cli.StringFlag{Name: "replay", Usage: "inspect from a capture `FILE` instead of this machine", TakesFile: true, Destination: &opts.Replay},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("inspect takes no arguments")
			}
			return runInspect(c.Context, opts, env, logger)
		},
	}
}

func runInspect(ctx context.Context, opts *inspectOptions, env Env, logger *log.Logger) error {
	if opts.Capture != "" && opts.Replay != "" {
		return usageErrorf("--capture and --replay exclude each other")
	}
	f, err := gatherFacts(ctx, env, opts.Replay, opts.Capture, logger)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(env.Stdout, f)
	}
	renderFacts(env.Stdout, f)
	return nil
}

// gatherFacts inspects the host (or a capture) and, when capture names a
// file, writes every probe's output there.
func gatherFacts(ctx context.Context, env Env, replay, capture string, logger *log.Logger) (*facts.Facts, error) {
	r, err := hostRunner(env, replay, logger)
	if err != nil {
		return nil, err
	}
	var rec *host.Recorder
	if capture != "" {
		rec = &host.Recorder{Next: r}
		r = rec
	}
	f, gerr := facts.Gather(ctx, r)
	if rec != nil {
		name := ""
		if out, err := os.Hostname(); err == nil {
			name = out
		}
		data := rec.Capture(time.Now(), "host: "+name)
		if err := durable.WriteFile(capture, data, 0o600); err != nil {
			return nil, fmt.Errorf("write capture: %w", err)
		}
		logger.Info("capture written", "file", capture)
	}
	if gerr != nil && replay != "" {
		// A capture that lacks a probe or holds output no parser reads is
		// bad input, as an unreadable capture is.
		return nil, mark(ErrUsage, fmt.Errorf("%s: %w", replay, gerr))
	}
	if gerr != nil {
		return nil, gerr
	}
	return f, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// renderFacts prints facts for a human.
func renderFacts(w io.Writer, f *facts.Facts) {
	kv := func(k, v string) { fprintf(w, "%-18s %s\n", k+":", v) }
	kv("system", strings.TrimSpace(f.OS+" "+f.Machine))
	kv("release", fmt.Sprintf("kernel %s, running %s, userland %s", orDash(f.Release.Kernel), orDash(f.Release.Running), orDash(f.Release.Userland)))
	kv("boot method", orDash(f.BootMethod))
	if f.KernelIdent != "" && f.KernelIdent != "GENERIC" {
		kv("kernel config", f.KernelIdent+" (not GENERIC: freebsd-update upgrades only the configurations FreeBSD distributes)")
	}
	kv("root", fmt.Sprintf("%s (pool %s)", orDash(f.RootMount), orDash(f.BootPool)))
	if f.Jailed {
		kv("jail", "yes")
	}
	for _, p := range f.Pools {
		fprintf(w, "\npool %s: %s", p.Name, p.State)
		if p.BootFS != "" {
			fprintf(w, ", bootfs %s", p.BootFS)
		}
		fprintf(w, ", %s free of %s", facts.HumanBytes(p.Free), facts.HumanBytes(p.Size))
		if p.Scan.InProgress {
			fprintf(w, ", %s in progress", p.Scan.Kind)
		}
		fprintf(w, "\n")
		if c := strings.Join(p.Compatibility, ","); c != "" && c != "off" {
			fprintf(w, "  compatibility %s\n", c)
		}
		if p.LegacyVersion != 0 {
			fprintf(w, "  legacy pool version %d\n", p.LegacyVersion)
		}
		if len(p.Upgradable) > 0 {
			fprintf(w, "  zpool upgrade would enable: %s\n", strings.Join(p.Upgradable, ", "))
		}
		for _, m := range p.Members {
			where := m.Partition + " on " + m.Disk
			if m.Disk == "" {
				where = "unresolved: " + m.Error
			}
			fprintf(w, "  member %-28s %-8s %s\n", m.Name, m.State, where)
		}
		for _, pr := range p.Problems {
			fprintf(w, "  problem: %s\n", pr)
		}
	}
	for _, d := range f.Disks {
		fprintf(w, "\ndisk %s (%s)\n", d.Name, d.Scheme)
		for _, b := range d.BootPartitions {
			fprintf(w, "  freebsd-boot  %-14s index %d, %s\n", b.Name, b.Index, facts.HumanBytes(b.Size))
		}
		for _, e := range d.ESPs {
			state := e.Format
			if e.MountPoint != "" {
				state += ", mounted on " + e.MountPoint
			}
			fprintf(w, "  efi           %-14s index %d, %s, %s; loader.efi %s, fallback %s\n", e.Name, e.Index, facts.HumanBytes(e.Size), state, e.Loader, e.Fallback)
		}
		if len(d.BootPartitions) == 0 && len(d.ESPs) == 0 {
			fprintf(w, "  no boot partitions\n")
		}
	}
	for _, d := range f.OtherDisks {
		fprintf(w, "\ndisk %s (%s), outside the boot pool\n", d.Name, d.Scheme)
		for _, e := range d.ESPs {
			state := e.Format
			if e.MountPoint != "" {
				state += ", mounted on " + e.MountPoint
			}
			fprintf(w, "  efi           %-14s index %d, %s, %s\n", e.Name, e.Index, facts.HumanBytes(e.Size), state)
		}
	}
	for _, l := range f.FstabESPs {
		opts := "without failok"
		if l.Failok {
			opts = "failok"
		}
		fprintf(w, "\nfstab line %d: %s on %s (%s, %s)\n", l.Line, l.Device, l.MountPoint, orDash(l.Partition), opts)
	}
	fprintf(w, "\n")
	be := "not available"
	if f.BootEnvs.Tool != "" {
		var names []string
		for _, b := range f.BootEnvs.List {
			flag := ""
			if b.Active {
				flag += "N"
			}
			if b.OnReboot {
				flag += "R"
			}
			if flag != "" {
				flag = " (" + flag + ")"
			}
			names = append(names, b.Name+flag)
		}
		be = fmt.Sprintf("%s, supported %v: %s", f.BootEnvs.Tool, f.BootEnvs.Supported, strings.Join(names, ", "))
	}
	kv("boot envs", be)
	upd := "nothing pending"
	if f.Update.Pending {
		upd = "install pending"
		if f.Update.Fetched != "" {
			upd += " for " + f.Update.Fetched
		}
		if f.Update.Phase != "" {
			upd += ", next: " + f.Update.Phase
		}
	}
	kv("freebsd-update", upd)
	pkg := "not in use"
	if f.Pkg.Activated {
		pkg = "ABI " + f.Pkg.ABI
		if f.Pkg.Pkgbase {
			pkg += ", packaged base (pkgbase)"
		}
	}
	kv("pkg", pkg)
	if f.EFI != nil {
		for _, e := range f.EFI.Entries {
			mark := " "
			if e.Current {
				mark = "+"
			}
			note := ""
			if e.Unreferenced {
				note = " (not in BootOrder)"
			}
			fprintf(w, "efi boot %s%s %-20s %s:%s%s\n", mark, e.Number, e.Label, orDash(e.Device), orDash(e.Path), note)
		}
	}
	warn := append([]string(nil), f.Warnings...)
	sort.Strings(warn)
	for _, s := range warn {
		fprintf(w, "warning: %s\n", s)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
