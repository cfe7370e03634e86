// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

const adminUsage = `usage:
  simhost new --spec FILE --root DIR     make a machine (and its bin/ links)
  simhost boot --root DIR [--disk NAME] [--no-hooks]
                                         boot it; prints the boot report (exit 0 booted, 1 not)
  simhost state --root DIR               print the model (JSON)
  simhost wait --root DIR                wait for the processes daemon(8) detached; prints them (JSON)
  simhost cut --root DIR                 cut the power now
  simhost disk remove|attach NAME --root DIR
  simhost disk replace NAME [resilvering] [labels] [bootcode] --root DIR
                                         a new disk for NAME, the pool member replaced onto it
  simhost disk resilvered --root DIR     let running resilvers finish
  simhost links --root DIR               reinstall the bin/ links to this binary
  simhost exec --root DIR COMMAND [ARG...]  run one simulated command
  simhost presets                        print example specs
--root defaults to $SIMHOST_ROOT.
`

// adminMain runs the simhost administrative commands.
func adminMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("simhost "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", os.Getenv(RootEnv), "machine root directory")
	specFile := fs.String("spec", "", "spec file (new)")
	disk := fs.String("disk", "", "disk to try first (boot)")
	noHooks := fs.Bool("no-hooks", false, "do not run rc.d scripts (boot)")
	panicIn := fs.String("panic", "", "boot environment whose kernel panics while it boots (boot)")
	hangIn := fs.String("hang", "", "boot environment whose boot hangs in rc (boot, with -hang-before)")
	hangBefore := fs.String("hang-before", "", "local rc.d script before which the boot hangs (boot)")
	if sub != "exec" {
		args = flagsFirst(args)
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if sub == "presets" {
		fmt.Fprint(stdout, presetExamples)
		return 0
	}
	if *root == "" {
		fmt.Fprintf(stderr, "simhost %s: --root is required\n", sub)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "simhost %s: %v\n", sub, err)
		return 1
	}
	if sub == "new" {
		if *specFile == "" {
			fmt.Fprintf(stderr, "simhost new: --spec is required\n")
			return 2
		}
		spec, err := ReadSpec(*specFile)
		if err != nil {
			return fail(err)
		}
		exe, err := os.Executable()
		if err != nil {
			return fail(err)
		}
		m, err := New(*root, spec, exe)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "machine ready in %s; PATH=%s\n", m.Root, m.MapPATH(loginPATH))
		return 0
	}
	m, err := Open(*root)
	if err != nil {
		return fail(err)
	}
	switch sub {
	case "boot":
		rep, err := m.Boot(BootOptions{FirstDisk: *disk, NoHooks: *noHooks, PanicIn: *panicIn, HangIn: *hangIn, HangBefore: *hangBefore})
		if err != nil {
			return fail(err)
		}
		data, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(stdout, "%s\n", data)
		if rep.Booted {
			fmt.Fprintln(stderr, "booted")
			return 0
		}
		fmt.Fprintf(stderr, "not booted: %s\n", rep.Reason)
		return 1
	case "state":
		model, err := m.Model()
		if err != nil {
			return fail(err)
		}
		data, _ := json.MarshalIndent(model, "", "  ")
		fmt.Fprintf(stdout, "%s\n", data)
		return 0
	case "wait":
		procs, err := m.Wait(context.Background())
		if err != nil {
			return fail(err)
		}
		data, _ := json.MarshalIndent(procs, "", "  ")
		fmt.Fprintf(stdout, "%s\n", data)
		return 0
	case "cut":
		if err := m.PowerCut(); err != nil {
			return fail(err)
		}
		return 0
	case "disk":
		switch {
		case len(rest) == 1 && rest[0] == "resilvered":
			err = m.FinishResilver()
		case len(rest) == 2 && rest[0] == "remove":
			err = m.RemoveDisk(rest[1])
		case len(rest) == 2 && rest[0] == "attach":
			err = m.AttachDisk(rest[1])
		case len(rest) >= 2 && rest[0] == "replace":
			r := Replacement{Disk: rest[1]}
			for _, w := range rest[2:] {
				switch w {
				case "resilvering":
					r.Resilvering = true
				case "labels":
					r.Labels = true
				case "bootcode":
					r.Bootcode = true
				default:
					fmt.Fprint(stderr, adminUsage)
					return 2
				}
			}
			err = m.ReplaceDisk(r)
		default:
			fmt.Fprint(stderr, adminUsage)
			return 2
		}
		if err != nil {
			return fail(err)
		}
		return 0
	case "links":
		exe, err := os.Executable()
		if err != nil {
			return fail(err)
		}
		if err := m.InstallLinks(exe); err != nil {
			return fail(err)
		}
		return 0
	case "exec":
		if len(rest) == 0 {
			fmt.Fprint(stderr, adminUsage)
			return 2
		}
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return m.exec(context.Background(), rest, stdin, stdout, stderr, env, true)
	}
	fmt.Fprint(stderr, adminUsage)
	return 2
}

// flagsFirst moves the --flags (and their values) of an administrative
// command in front of its operands, so they may come anywhere.
func flagsFirst(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--no-hooks" || a == "-no-hooks" || (strings.HasPrefix(a, "-") && strings.Contains(a, "=")):
			flags = append(flags, a)
		case strings.HasPrefix(a, "-") && i+1 < len(args):
			flags = append(flags, a, args[i+1])
			i++
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

// BuildBinary builds the simhost command into dir and returns its path.
// Tests call it once (e.g. from TestMain) and give the path to New.
func BuildBinary(dir string) (string, error) {
	out := filepath.Join(dir, binaryName)
	gocmd, err := exec.LookPath("go")
	if err != nil {
		gocmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gocmd, "build", "-o", out, "github.com/zupgrade/zupgrade/vmtest/simhost/cmd/simhost")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build simhost: %v\n%s", err, msg)
	}
	return out, nil
}

// presetExamples are example specs, one per preset.
const presetExamples = `{"preset": "bios", "release": "13.2-RELEASE-p4", "disks": 2}
{"preset": "bios+uefi", "release": "14.2-RELEASE", "disks": 2, "naming": "gpt-label"}
{"preset": "uefi", "release": "14.3-RELEASE-p5", "disks": 3, "disk_prefix": "nda"}
{"preset": "bios", "release": "8.2-RELEASE", "disks": 2, "naming": "gpt-label", "pool_version": 15}
{"preset": "bios", "release": "14.2-RELEASE", "disks": 2, "replaced": [{"disk": "ada1", "resilvering": true}]}
{"preset": "bios", "release": "14.2-RELEASE", "naming": "gpt-label", "layouts": {"ada0": [{"type": "freebsd-boot", "index": 7}, {"type": "freebsd-zfs", "label": "zfs1"}], "ada1": [{"type": "freebsd-boot", "index": 7}, {"type": "freebsd-zfs", "label": "zfs0"}]}}
`
