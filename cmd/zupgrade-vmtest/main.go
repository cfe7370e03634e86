// SPDX-License-Identifier: BSD-2-Clause

// Command zupgrade-vmtest runs zupgrade's VM integration scenarios for an
// admin: on the simulated host in process, in the Linux guest under QEMU,
// or on a real FreeBSD image under QEMU or bhyve (docs/vmtest.md). It
// prints one line per scenario and closes with "N passed, N failed, N
// skipped"; it exits 1 when any scenario failed, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/zupgrade/zupgrade/vmtest/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: zupgrade-vmtest [flags] [SCENARIO|GLOB ...]

Runs the scenarios of --scenarios (every one unless names or globs are
given) and closes with "N passed, N failed, N skipped".

`

// errUsage is bad usage: exit 2.
var errUsage = errors.New("usage")

// Main is the command, with its arguments and output streams.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	code, err := run(ctx, args, stdout, stderr)
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "zupgrade-vmtest: %v\n", err)
		}
		return 2
	}
	return code
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("zupgrade-vmtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	backend := fs.String("backend", "", "in-process, linux-guest or image (default: image with --image, else linux-guest)")
	image := fs.String("image", "", "an official FreeBSD amd64 ZFS VM image (BASIC-CLOUDINIT, qcow2 or raw)")
	imageRelease := fs.String("image-release", "", "the image's release, when its file name does not say it")
	zupgradeFreeBSD := fs.String("zupgrade", "", "zupgrade built for FreeBSD amd64 with -tags zupgrade_crashtest (image; default: built from this tree)")
	firmware := fs.String("firmware", "both", "bios, uefi or both")
	hypervisor := fs.String("hypervisor", harness.HypervisorQEMU, "qemu or bhyve (image)")
	accel := fs.String("accel", "tcg", "tcg or kvm (image under QEMU)")
	scenarios := fs.String("scenarios", "vmtest/testdata/scenarios", "the directory of scenario files")
	parallel := fs.Int("parallel", 1, "scenarios run at once (guests start staggered)")
	junit := fs.String("junit", "", "write a JUnit XML report to `FILE`")
	jsonOut := fs.String("json", "", "write a JSON report to `FILE`")
	keep := fs.String("keep", harness.KeepFail, "keep the artefacts of: fail, always or never")
	workDir := fs.String("workdir", "", "where the scenarios' directories go (default: a new temporary directory)")
	// Flags may stand after the scenario names too.
	var patterns []string
	for {
		if err := fs.Parse(args); err != nil {
			return 0, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		patterns, args = append(patterns, fs.Arg(0)), fs.Args()[1:]
	}
	if *parallel < 1 {
		return 0, fmt.Errorf("-parallel %d: give 1 or more", *parallel)
	}
	switch *firmware {
	case "bios", "uefi", "both":
	default:
		return 0, fmt.Errorf("--firmware %q: want bios, uefi or both", *firmware)
	}
	switch *keep {
	case harness.KeepFail, harness.KeepAlways, harness.KeepNever:
	default:
		return 0, fmt.Errorf("--keep %q: want fail, always or never", *keep)
	}
	if *backend == "" {
		*backend = harness.BackendLinuxGuest
		if *image != "" {
			*backend = harness.BackendImage
		}
	}
	if *image != "" && *backend != harness.BackendImage {
		return 0, fmt.Errorf("--image goes with --backend image, not %s", *backend)
	}
	all, err := harness.LoadDir(*scenarios)
	if err != nil {
		return 0, fmt.Errorf("%v (run from zupgrade's source tree, or give --scenarios DIR)", err)
	}
	if err := harness.CheckPatterns(all, patterns); err != nil {
		return 0, err
	}
	var img harness.ImageOptions
	if *backend == harness.BackendImage {
		if *image == "" {
			return 0, fmt.Errorf("--backend image needs --image FILE")
		}
		img = harness.DefaultImageOptions(*image, *zupgradeFreeBSD)
		img.Release, img.Hypervisor, img.Accel = *imageRelease, *hypervisor, *accel
		if err := img.CheckImage(); err != nil {
			return 0, err
		}
	}
	if *workDir == "" {
		if *workDir, err = os.MkdirTemp("", "zupgrade-vmtest-"); err != nil {
			return 0, err
		}
	} else if err := os.MkdirAll(*workDir, 0o755); err != nil {
		return 0, err
	}
	if *workDir, err = filepath.Abs(*workDir); err != nil {
		return 0, err
	}
	binDir := filepath.Join(*workDir, "bin")
	kitDir := filepath.Join(*workDir, "kit")
	keepWork := true
	defer func() {
		os.RemoveAll(binDir)
		os.RemoveAll(kitDir)
		if !keepWork {
			os.Remove(*workDir)
		}
	}()
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return 0, err
	}
	bins, err := harness.Build(binDir)
	if err != nil {
		return 0, err
	}
	// A matrix scenario's cells come from zupgrade's plan of its machine.
	if all, err = harness.Expand(ctx, all, bins, binDir); err != nil {
		return 0, err
	}
	scs, err := harness.Select(all, patterns)
	if err != nil {
		return 0, err
	}
	o := harness.SuiteOptions{Backend: *backend, Firmware: *firmware, Parallel: *parallel, Keep: *keep,
		WorkDir: *workDir, Bins: bins, Progress: stdout}
	switch *backend {
	case harness.BackendLinuxGuest:
		if missing := harness.MissingGuestTools(); len(missing) > 0 {
			return 0, fmt.Errorf("the Linux guest needs: %s (or run --backend in-process)", strings.Join(missing, ", "))
		}
		if err := os.MkdirAll(kitDir, 0o755); err != nil {
			return 0, err
		}
		if o.Kit, err = harness.NewGuestKit(kitDir, bins); err != nil {
			return 0, err
		}
		chosen, err := o.Kit.ChooseAccel(ctx, kitDir)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(stdout, "vmtest: linux guest, accelerator %s\n", chosen)
	case harness.BackendImage:
		if img.Zupgrade == "" {
			if img.Zupgrade, err = harness.BuildFreeBSD(binDir); err != nil {
				return 0, err
			}
		}
		o.Image = &img
		fmt.Fprintf(stdout, "vmtest: image %s (%s) under %s, accelerator %s\n", *image, img.Release, img.Hypervisor, strings.ToUpper(img.Accel))
	}
	if err := harness.CheckSuiteOptions(o); err != nil {
		return 0, err
	}
	res, err := harness.RunSuite(ctx, scs, o)
	if err != nil {
		return 0, err
	}
	if *jsonOut != "" {
		if err := harness.WriteFile(*jsonOut, res.WriteJSON); err != nil {
			return 0, err
		}
	}
	if *junit != "" {
		if err := harness.WriteFile(*junit, res.WriteJUnit); err != nil {
			return 0, err
		}
	}
	keepWork = false
	for _, r := range res.Results {
		if r.Artefacts != "" {
			keepWork = true
		}
	}
	if keepWork {
		fmt.Fprintf(stdout, "vmtest: artefacts in %s\n", *workDir)
	}
	fmt.Fprintf(stdout, "vmtest: wall %.1fs at -parallel %d\n", res.Wall, *parallel)
	fmt.Fprintln(stdout, res.Summary())
	if res.Failed > 0 {
		return 1, nil
	}
	return 0, nil
}
