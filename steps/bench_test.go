// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
	"github.com/zupgrade/zupgrade/steps"
)

// BenchmarkJournalSave measures one journal checkpoint: Store.Save of the
// journal of a 13-step upgrade of a BIOS+UEFI 3-way mirror (temporary
// file, fsync, rename, fsync of the directory).
func BenchmarkJournalSave(b *testing.B) {
	store := steps.Store{Dir: b.TempDir()}
	j := midRunJournal(b)
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j.Updated = journalTime.Add(time.Duration(i) * time.Second)
		if err := store.Save(j); err != nil {
			b.Fatal(err)
		}
	}
}

// instantHost is a host.Runner that answers from a table at once: the
// engine's cost without the commands' own time.
type instantHost struct {
	answers map[string]host.Result
	calls   int
}

func (h *instantHost) Run(_ context.Context, cmd host.Command) (host.Result, error) {
	h.calls++
	res, ok := h.answers[cmd.Line()]
	if !ok {
		return host.Result{}, fmt.Errorf("instant host: no answer for %q", cmd.Line())
	}
	if cmd.Output != nil {
		cmd.Output.Write(res.Stdout)
	}
	return res, nil
}

const benchBE = "zupgrade-bench"

// engineBenchHost answers the checks and commands of the backup and
// install steps; done says whether their effects are there already.
func engineBenchHost(done bool) *instantHost {
	list := "default\tNR\t/\t21.3G\t2023-05-02 11:07\n"
	ready := host.Result{Stdout: []byte("There are updates available to install.\n")}
	listing := host.Result{Stdout: []byte("INDEX-NEW\nINDEX-OLD\n")}
	if done {
		list += benchBE + "\t-\t-\t8K\t2026-11-26 13:05\n"
		ready = host.Result{Stdout: []byte("No updates are available to install.\n"), ExitCode: 2}
		listing = host.Result{ExitCode: 1}
	}
	line := func(args ...string) string { return host.QuoteArgs(args) }
	return &instantHost{answers: map[string]host.Result{
		line(bootenv.ListArgs()...):                                       {Stdout: []byte(list)},
		line("bectl", "create", "-r", benchBE):                            {},
		line(freebsdupdate.UpdatesReadyArgs...):                           ready,
		line(freebsdupdate.ListingCommand(freebsdupdate.WorkDir, "/")...): listing,
		line(freebsdupdate.InstallCommand().Args...):                      {Stdout: []byte("src component not installed, skipped\nInstalling updates... done.\n")},
		// The end of the run: no boot hook to remove.
		line("ls", "-1", "/usr/local/etc/rc.d/zupgrade"): {ExitCode: 1},
		line("sysrc", "-n", "zupgrade_enable"):           {ExitCode: 1},
	}}
}

// engineBenchPlan is the plan of a real host (so that every checkpoint
// saves a journal of the real size) with its steps replaced by 13 backup
// and patch install steps, whose checks and commands instantHost answers.
func engineBenchPlan(b testing.TB) *steps.Plan {
	p := steps.Build(exampleFacts(b, "mirror-bios-uefi"), steps.Options{Now: journalTime})
	p.Steps = nil
	cmd := func(op steps.Op) steps.Cmd {
		c := op.Command()
		return steps.Cmd{Op: op, Args: c.Args, Env: c.Env}
	}
	for i := range 13 {
		s := steps.Step{ID: steps.StepBackup, Title: "Backup boot environment " + benchBE,
			Commands: []steps.Cmd{cmd(&steps.CreateBootEnv{Name: benchBE})}}
		if i%2 == 1 {
			s = steps.Step{ID: steps.StepInstall, Title: "Install the patches",
				Commands: []steps.Cmd{cmd(&steps.FreebsdUpdate{Phase: "install"})}}
		}
		p.Steps = append(p.Steps, s)
	}
	return p
}

// BenchmarkEngineStep measures the engine's cost per step, the commands
// taking no time: the Done check's probes parsed, the journal saved when
// the step starts and when it ends, the status lines written. "run": no
// step's effect is there, every step runs; "already-done": every Done
// check finds the effect, one journal save per step.
func BenchmarkEngineStep(b *testing.B) {
	for _, mode := range []struct {
		name string
		done bool
	}{{"run", false}, {"already-done", true}} {
		b.Run(mode.name, func(b *testing.B) {
			p := engineBenchPlan(b)
			h := engineBenchHost(mode.done)
			store := steps.Store{Dir: b.TempDir()}
			eng := &steps.Engine{Runner: h, Store: store}
			j := steps.NewJournal(p, journalTime)
			ctx := context.Background()
			for b.Loop() {
				for i := range j.Steps {
					j.Steps[i] = steps.StepRecord{ID: j.Steps[i].ID, State: steps.StepPending}
				}
				j.Status = steps.StatusRunning
				out, err := eng.Apply(ctx, j)
				if err != nil || out != steps.Finished {
					b.Fatalf("Apply = %v, %v", out, err)
				}
			}
			n := float64(b.N * len(p.Steps))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/step")
			b.ReportMetric(float64(h.calls)/n, "commands/step")
		})
	}
}

// BenchmarkEngineStepEvents measures what the event stream costs the
// engine per step: each iteration applies the plan of BenchmarkEngineStep
// twice, once with the events rendered as plain lines to nowhere (what the
// engine did when it printed its lines itself) and once through the whole
// stream: a Pulse, the status line, plain lines, JSON Lines and the run
// log, all to nowhere. It reports both costs per step and their ratio.
func BenchmarkEngineStepEvents(b *testing.B) {
	for _, mode := range []struct {
		name string
		done bool
	}{{"run", false}, {"already-done", true}} {
		b.Run(mode.name, func(b *testing.B) {
			p := engineBenchPlan(b)
			store := steps.Store{Dir: b.TempDir()}
			j := steps.NewJournal(p, journalTime)
			ctx := context.Background()
			ticks := make(chan time.Time)
			pulse := progress.NewPulse(progress.Tee(progress.NewStatus(io.Discard, 80), progress.NewPlain(io.Discard), progress.NewJSONLines(io.Discard)), ticks)
			defer pulse.Stop()
			runLog := log.NewWithOptions(io.Discard, log.Options{Formatter: log.JSONFormatter, ReportTimestamp: true})
			bare := &steps.Engine{Runner: engineBenchHost(mode.done), Store: store, Events: progress.NewPlain(io.Discard)}
			stream := &steps.Engine{Runner: engineBenchHost(mode.done), Store: store, Events: progress.Tee(pulse, progress.RunLog{Log: runLog})}
			apply := func(eng *steps.Engine) time.Duration {
				for i := range j.Steps {
					j.Steps[i] = steps.StepRecord{ID: j.Steps[i].ID, State: steps.StepPending}
				}
				j.Status = steps.StatusRunning
				start := time.Now()
				out, err := eng.Apply(ctx, j)
				if err != nil || out != steps.Finished {
					b.Fatalf("Apply = %v, %v", out, err)
				}
				return time.Since(start)
			}
			var tBare, tStream time.Duration
			for i := 0; b.Loop(); i++ {
				// Alternated, so that a busy moment of the machine falls
				// on both alike.
				if i%2 == 0 {
					tBare += apply(bare)
					tStream += apply(stream)
				} else {
					tStream += apply(stream)
					tBare += apply(bare)
				}
			}
			n := float64(b.N * len(p.Steps))
			b.ReportMetric(float64(tBare.Nanoseconds())/n, "ns/step-plain")
			b.ReportMetric(float64(tStream.Nanoseconds())/n, "ns/step-stream")
			b.ReportMetric(float64(tStream)/float64(tBare), "ratio")
		})
	}
}

// countingRunner counts the commands run through it.
type countingRunner struct {
	next  host.Runner
	calls int
}

func (c *countingRunner) Run(ctx context.Context, cmd host.Command) (host.Result, error) {
	c.calls++
	return c.next.Run(ctx, cmd)
}

// mirrorCapture returns a capture of a host whose boot pool zroot is an
// n-way mirror over ada0..ada(n-1), each laid out by bsdinstall for BIOS
// and UEFI: p1 efi (efiboot<i>), p2 freebsd-boot (gptboot<i>), p3 swap,
// p4 freebsd-zfs (zfs<i>, the member gpt/zfs<i>). The ESP of ada0 is
// mounted on /boot/efi. Everything else is examples/mirror-bios-uefi.txtar.
func mirrorCapture(tb testing.TB, n int) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "mirror-bios-uefi.txtar"))
	if err != nil {
		tb.Fatal(err)
	}
	a := txtar.Parse(data)
	var devs []string
	for i := range n {
		devs = append(devs, fmt.Sprintf("/dev/ada%dp1", i))
	}
	replaced := map[string]bool{}
	for k := range a.Files {
		f := &a.Files[k]
		switch {
		case f.Name == "zpool status":
			f.Data = mirrorZpoolStatus(n)
		case f.Name == "gpart list":
			f.Data = mirrorGpartList(n)
		case f.Name == "glabel status":
			f.Data = mirrorGlabelStatus(n)
		case strings.HasPrefix(f.Name, "file -s "):
			f.Name = "file -s " + strings.Join(devs, " ")
			var b strings.Builder
			for i, d := range devs {
				fmt.Fprintf(&b, "%s: DOS/MBR boot sector, code offset 0x58+2, OEM-ID \"BSD4.4  \", sectors/cluster 8, Media descriptor 0xf8, sectors/track 63, heads 16, hidden sectors 40, sectors 532480 (volumes > 32 MB), FAT (32 bit), sectors/FAT 520, serial number 0x%08x, unlabeled\n", d, 0x1c2e0000+i)
			}
			f.Data = []byte(b.String())
		default:
			continue
		}
		replaced[strings.Fields(f.Name)[0]+" "+strings.Fields(f.Name)[1]] = true
	}
	if len(replaced) != 4 {
		tb.Fatalf("the template lacks a member: replaced %v", replaced)
	}
	return txtar.Format(a)
}

func mirrorZpoolStatus(n int) []byte {
	var b strings.Builder
	b.WriteString("  pool: zroot\n state: ONLINE\n  scan: scrub repaired 0B in 00:05:32 with 0 errors on Sun Nov 17 03:11:48 2024\nconfig:\n\n")
	b.WriteString("\tNAME          STATE     READ WRITE CKSUM\n")
	b.WriteString("\tzroot         ONLINE       0     0     0\n")
	b.WriteString("\t  mirror-0    ONLINE       0     0     0\n")
	for i := range n {
		fmt.Fprintf(&b, "\t    %-9s ONLINE       0     0     0\n", fmt.Sprintf("gpt/zfs%d", i))
	}
	b.WriteString("\nerrors: No known data errors\n")
	return []byte(b.String())
}

// gptPartition is one partition of a generated disk.
type gptPartition struct {
	label, typ, rawtype string
	start, sectors      int64
}

func mirrorPartitions(i int) []gptPartition {
	return []gptPartition{
		{fmt.Sprintf("efiboot%d", i), "efi", "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", 40, 532480},
		{fmt.Sprintf("gptboot%d", i), "freebsd-boot", "83bd6b9d-7f41-11dc-be0b-001560b84f0f", 532520, 1024},
		{fmt.Sprintf("swap%d", i), "freebsd-swap", "516e7cb5-6ecf-11d6-8ff8-00022d09712b", 534528, 4194304},
		{fmt.Sprintf("zfs%d", i), "freebsd-zfs", "516e7cba-6ecf-11d6-8ff8-00022d09712b", 4728832, 971044864},
	}
}

func mirrorGpartList(n int) []byte {
	var b strings.Builder
	for i := range n {
		disk := fmt.Sprintf("ada%d", i)
		fmt.Fprintf(&b, "Geom name: %s\nmodified: false\nstate: OK\nfwheads: 16\nfwsectors: 63\nlast: 976773127\nfirst: 40\nentries: 128\nscheme: GPT\nProviders:\n", disk)
		for k, p := range mirrorPartitions(i) {
			uuid := fmt.Sprintf("%08x-e8d9-11ed-ad1c-3cecef1a2b3c", 0x14ac0000+i*16+k)
			size := p.sectors * 512
			fmt.Fprintf(&b, "%d. Name: %sp%d\n", k+1, disk, k+1)
			fmt.Fprintf(&b, "   Mediasize: %d (%s)\n", size, gpartHuman(size))
			b.WriteString("   Sectorsize: 512\n   Stripesize: 4096\n   Stripeoffset: 0\n   Mode: r1w1e1\n")
			fmt.Fprintf(&b, "   efimedia: HD(%d,GPT,%s,0x%x,0x%x)\n", k+1, uuid, p.start, p.sectors)
			fmt.Fprintf(&b, "   rawuuid: %s\n   rawtype: %s\n   label: %s\n", uuid, p.rawtype, p.label)
			fmt.Fprintf(&b, "   length: %d\n   offset: %d\n   type: %s\n   index: %d\n", size, p.start*512, p.typ, k+1)
			fmt.Fprintf(&b, "   end: %d\n   start: %d\n", p.start+p.sectors-1, p.start)
		}
		fmt.Fprintf(&b, "Consumers:\n1. Name: %s\n   Mediasize: 500107862016 (466G)\n   Sectorsize: 512\n   Stripesize: 4096\n   Stripeoffset: 0\n   Mode: r2w2e5\n\n", disk)
	}
	return []byte(b.String())
}

// gpartHuman is gpart's size in parentheses: 512K, 260M, 2.0G, 463G.
func gpartHuman(n int64) string {
	units := []string{"B", "K", "M", "G", "T"}
	f, u := float64(n), 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if f < 10 && f != float64(int64(f)) {
		return fmt.Sprintf("%.1f%s", f, units[u])
	}
	return fmt.Sprintf("%.0f%s", f, units[u])
}

func mirrorGlabelStatus(n int) []byte {
	type row struct{ name, comp string }
	var rows []row
	width := len("Name")
	for i := range n {
		for k, p := range mirrorPartitions(i) {
			r := row{"gpt/" + p.label, fmt.Sprintf("ada%dp%d", i, k+1)}
			width = max(width, len(r.name))
			rows = append(rows, r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%*s  Status  Components\n", width, "Name")
	for _, r := range rows {
		fmt.Fprintf(&b, "%*s     N/A  %s\n", width, r.name, r.comp)
	}
	return []byte(b.String())
}

// gatherMirror gathers the facts of an n-disk mirrorCapture and returns
// them with the number of commands run.
func gatherMirror(tb testing.TB, rp host.Runner) (*facts.Facts, int) {
	tb.Helper()
	r := &countingRunner{next: rp}
	f, err := facts.Gather(context.Background(), r)
	if err != nil {
		tb.Fatal(err)
	}
	return f, r.calls
}

func mirrorReplay(tb testing.TB, n int) *host.Replay {
	tb.Helper()
	rp, err := host.ParseCapture(fmt.Sprintf("mirror-%d", n), mirrorCapture(tb, n))
	if err != nil {
		tb.Fatal(err)
	}
	return rp
}

// TestGatherSpawnsDoNotGrowWithDisks: inspecting a 64-disk mirror runs as
// many commands as a 2-disk one, and every disk is seen.
func TestGatherSpawnsDoNotGrowWithDisks(t *testing.T) {
	calls := map[int]int{}
	for _, n := range []int{2, 3, 17, 64} {
		f, c := gatherMirror(t, mirrorReplay(t, n))
		calls[n] = c
		if len(f.Pools) != 1 || len(f.Pools[0].Members) != n {
			t.Fatalf("%d disks: pools %+v", n, f.Pools)
		}
		for _, m := range f.Pools[0].Members {
			if m.Disk == "" {
				t.Errorf("%d disks: member %s unresolved: %s", n, m.Name, m.Error)
			}
		}
		if len(f.Disks) != n {
			t.Fatalf("%d disks: %d disks in the facts", n, len(f.Disks))
		}
		for i, d := range f.Disks {
			if len(d.BootPartitions) != 1 || len(d.ESPs) != 1 || d.ESPs[0].Format != "fat" {
				t.Errorf("%d disks: disk %d %s: boot partitions %+v, ESPs %+v; want one of each, FAT", n, i, d.Name, d.BootPartitions, d.ESPs)
			}
		}
		if got := f.Disks[0].ESPs[0]; got.MountPoint != "/boot/efi" || got.Loader == "unknown" {
			t.Errorf("%d disks: the mounted ESP is %+v", n, got)
		}
	}
	for n, c := range calls {
		if c != calls[2] {
			t.Errorf("inspecting %d disks ran %d commands, 2 disks %d", n, c, calls[2])
		}
	}
	t.Logf("commands per inspection: %v", calls)
}

func benchmarkGather(b *testing.B, n int) {
	rp := mirrorReplay(b, n)
	calls := 0
	for b.Loop() {
		_, c := gatherMirror(b, rp)
		calls += c
	}
	b.ReportMetric(float64(calls)/float64(b.N), "spawns/op")
}

// BenchmarkGather2Disks and BenchmarkGather64Disks: facts.Gather over a
// replayed capture of a 2-disk and a 64-disk mirror; spawns/op is the
// number of commands a real host would start.
func BenchmarkGather2Disks(b *testing.B)  { benchmarkGather(b, 2) }
func BenchmarkGather64Disks(b *testing.B) { benchmarkGather(b, 64) }
