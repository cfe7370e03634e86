// SPDX-License-Identifier: BSD-2-Clause

package guestzfs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CacheEnv overrides the cache directory (default: the user's cache
// directory, zupgrade-vmtest/guestzfs under it).
const CacheEnv = "VMTEST_CACHE"

// The Debian packages the assets come from: the module source and the
// userland; the userland's own libzfs, libzpool, libnvpair and libuutil
// packages are read from zfsutils-linux's Depends.
const (
	dkmsPackage  = "zfs-dkms"
	utilsPackage = "zfsutils-linux"
)

// Versions are Debian package versions by package name.
type Versions map[string]string

// Manifest describes one built set of assets; it is written last, so a
// cache directory without it is incomplete.
type Manifest struct {
	Kernel   string   `json:"kernel"`
	Versions Versions `json:"versions"`
	// Modules are the kernel modules in load order (spl, then zfs), paths
	// in the guest, relative to its root.
	Modules []string `json:"modules"`
	// Files are every file of the assets, paths in the guest relative to
	// its root (the modules, zpool, zfs, their libraries and the dynamic
	// loader, the compatibility profiles).
	Files []string `json:"files"`
	// BuildSeconds is how long the build took.
	BuildSeconds float64 `json:"build_seconds"`
}

// Assets are a complete set in the cache: Root holds the files at their
// guest paths.
type Assets struct {
	Root string
	Manifest
}

// manifestName is the manifest's file name in a cache directory.
const manifestName = "manifest.json"

// CacheDir is where the asset sets live.
func CacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return filepath.Join(d, "guestzfs"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "zupgrade-vmtest", "guestzfs"), nil
}

// Key names the cache directory of kernel kver and the package versions:
// readable (kernel, OpenZFS version) and exact (a hash of every version).
func Key(kver string, v Versions) string {
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "kernel %s\n", kver)
	for _, n := range names {
		fmt.Fprintf(h, "%s %s\n", n, v[n])
	}
	return fmt.Sprintf("%s_zfs-%s_%s", kver, strings.ReplaceAll(v[dkmsPackage], "/", "_"), hex.EncodeToString(h.Sum(nil))[:12])
}

// CandidateVersions asks apt (its package lists, no network) which
// versions of the packages it would download now.
func CandidateVersions(ctx context.Context) (Versions, error) {
	stanzas, err := aptShow(ctx, dkmsPackage, utilsPackage)
	if err != nil {
		return nil, err
	}
	v := Versions{}
	var libs []string
	for _, s := range stanzas {
		v[s["Package"]] = s["Version"]
		if s["Package"] == utilsPackage {
			libs = exactDepends(s["Depends"])
		}
	}
	for _, p := range []string{dkmsPackage, utilsPackage} {
		if v[p] == "" {
			return nil, fmt.Errorf("apt knows no package %s: add bookworm-backports with the contrib component to apt's sources and run apt-get update", p)
		}
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("%s %s depends on no library of its own version", utilsPackage, v[utilsPackage])
	}
	more, err := aptShow(ctx, libs...)
	if err != nil {
		return nil, err
	}
	for _, s := range more {
		v[s["Package"]] = s["Version"]
	}
	for _, l := range libs {
		if v[l] == "" {
			return nil, fmt.Errorf("apt knows no package %s (a dependency of %s)", l, utilsPackage)
		}
	}
	return v, nil
}

// exactDepends are the packages of a Depends field pinned to one version
// ("libzfs6linux (= 2.3.2-2~bpo12+2)"): the userland's own libraries.
func exactDepends(field string) []string {
	var out []string
	for _, d := range strings.Split(field, ",") {
		d = strings.TrimSpace(d)
		name, rest, ok := strings.Cut(d, " ")
		if ok && strings.HasPrefix(strings.TrimSpace(rest), "(= ") {
			out = append(out, name)
		}
	}
	return out
}

// aptShow returns the candidate stanza of each package
// (apt-cache show --no-all-versions).
func aptShow(ctx context.Context, pkgs ...string) ([]map[string]string, error) {
	cmd := exec.CommandContext(ctx, "apt-cache", append([]string{"show", "--no-all-versions"}, pkgs...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("apt-cache show %s: %v: %s (add bookworm-backports contrib to apt's sources and run apt-get update)", strings.Join(pkgs, " "), err, strings.TrimSpace(errb.String()))
	}
	return parseStanzas(out), nil
}

// parseStanzas reads deb822 stanzas: "Field: value" lines, continuation
// lines starting with a space, stanzas separated by empty lines.
func parseStanzas(data []byte) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.TrimSpace(l) == "":
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur, last = map[string]string{}, ""
		case l[0] == ' ' || l[0] == '\t':
			if last != "" {
				cur[last] += "\n" + strings.TrimSpace(l)
			}
		default:
			k, v, ok := strings.Cut(l, ":")
			if ok {
				last = k
				cur[k] = strings.TrimSpace(v)
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Find returns the cached assets of kernel kver for the package versions
// apt offers now, or an error saying how to build them.
func Find(ctx context.Context, kver string) (*Assets, error) {
	v, err := CandidateVersions(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := CacheDir()
	if err != nil {
		return nil, err
	}
	return load(filepath.Join(dir, Key(kver, v)))
}

func load(dir string) (*Assets, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("no OpenZFS guest assets in %s (build them: go run ./vmtest/guestzfs/cmd/guestzfs): %w", dir, err)
	}
	a := &Assets{Root: filepath.Join(dir, "root")}
	if err := json.Unmarshal(data, &a.Manifest); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestName), err)
	}
	return a, nil
}

// The host programs a build needs, and the Debian package of each.
var buildTools = []struct{ prog, pkg string }{
	{"apt-get", "apt"},
	{"apt-cache", "apt"},
	{"dpkg-deb", "dpkg"},
	{"make", "build-essential"},
	{"gcc", "build-essential"},
	{"strip", "binutils"},
	{"ldd", "libc-bin"},
}

// headerDirs are the kernel's build tree (the -amd64 headers) and its
// source headers (the -common ones), as Debian installs them.
func headerDirs(kver string) (obj, src string, err error) {
	obj = "/usr/src/linux-headers-" + kver
	flavour := kver[strings.LastIndexByte(kver, '-')+1:]
	src = "/usr/src/linux-headers-" + strings.TrimSuffix(kver, flavour) + "common"
	for _, d := range []string{obj, src} {
		if _, err := os.Stat(filepath.Join(d, "Makefile")); err != nil {
			return "", "", fmt.Errorf("no kernel headers in %s: install linux-headers-%s (linux-headers-amd64, the same version as linux-image-amd64)", d, kver)
		}
	}
	return obj, src, nil
}

// Build makes the assets of kernel kver unless the cache already holds
// them for the versions apt offers, and returns them. It downloads the
// packages (apt-get download, nothing is installed), compiles the modules
// against the kernel's headers and copies the userland with the shared
// libraries ldd resolves. Progress goes to log.
func Build(ctx context.Context, kver string, log io.Writer) (*Assets, error) {
	v, err := CandidateVersions(ctx)
	if err != nil {
		return nil, err
	}
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, Key(kver, v))
	if a, err := load(dir); err == nil {
		fmt.Fprintf(log, "guestzfs: cached in %s\n", dir)
		return a, nil
	}
	var missing []string
	for _, t := range buildTools {
		if _, err := exec.LookPath(t.prog); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", t.prog, t.pkg))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("building the OpenZFS guest assets needs: %s", strings.Join(missing, ", "))
	}
	obj, src, err := headerDirs(kver)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(cache, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	start := time.Now()
	b := &builder{ctx: ctx, log: log, work: work, root: filepath.Join(work, "out", "root")}
	m, err := b.build(kver, v, obj, src)
	if err != nil {
		return nil, err
	}
	m.BuildSeconds = time.Since(start).Seconds()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "out", manifestName), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	os.RemoveAll(dir) // an incomplete set left by an interrupted build
	if err := os.Rename(filepath.Join(work, "out"), dir); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "guestzfs: built in %.0f s into %s\n", m.BuildSeconds, dir)
	return load(dir)
}

// builder holds one build's work directory.
type builder struct {
	ctx  context.Context
	log  io.Writer
	work string
	root string // the assets at their guest paths
}

// run runs a command in dir, its output to the log.
func (b *builder) run(dir string, env []string, argv ...string) error {
	cmd := exec.CommandContext(b.ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	fmt.Fprintf(b.log, "guestzfs: %s\n", strings.Join(argv, " "))
	if err := cmd.Run(); err != nil {
		tail := out.String()
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tail)
	}
	return nil
}

func (b *builder) build(kver string, v Versions, obj, src string) (*Manifest, error) {
	debs := filepath.Join(b.work, "debs")
	ext := filepath.Join(b.work, "extract")
	for _, d := range []string{debs, ext, b.root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	pinned := make([]string, len(names))
	for i, n := range names {
		pinned[i] = n + "=" + v[n]
	}
	if err := b.run(debs, nil, append([]string{"apt-get", "download"}, pinned...)...); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(debs, "*.deb"))
	if err != nil || len(files) != len(names) {
		return nil, fmt.Errorf("apt-get download gave %d packages, want %d", len(files), len(names))
	}
	for _, f := range files {
		if err := b.run(ext, nil, "dpkg-deb", "-x", f, ext); err != nil {
			return nil, err
		}
	}
	m := &Manifest{Kernel: kver, Versions: v}
	mods, err := b.modules(ext, kver, obj, src)
	if err != nil {
		return nil, err
	}
	m.Modules = mods
	if err := b.userland(ext); err != nil {
		return nil, err
	}
	err = filepath.WalkDir(b.root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(b.root, p)
		m.Files = append(m.Files, rel)
		return nil
	})
	sort.Strings(m.Files)
	return m, err
}

// modules compiles spl.ko and zfs.ko for kver from the zfs-dkms source
// tree and strips their debug information.
func (b *builder) modules(ext, kver, obj, src string) ([]string, error) {
	trees, _ := filepath.Glob(filepath.Join(ext, "usr", "src", "zfs-*"))
	if len(trees) != 1 {
		return nil, fmt.Errorf("%s: want one /usr/src/zfs-* tree, found %d", dkmsPackage, len(trees))
	}
	tree := trees[0]
	if err := b.run(tree, nil, "./configure", "--with-config=kernel", "--with-linux="+src, "--with-linux-obj="+obj); err != nil {
		return nil, err
	}
	if err := b.run(tree, nil, "make", "-j"+strconv.Itoa(runtime.NumCPU())); err != nil {
		return nil, err
	}
	var out []string
	for _, name := range []string{"spl.ko", "zfs.ko"} {
		built, err := findFile(filepath.Join(tree, "module"), name)
		if err != nil {
			return nil, err
		}
		rel := filepath.Join("lib", "modules", kver, "extra", name)
		dst := filepath.Join(b.root, rel)
		if err := copyFile(built, dst, 0o644); err != nil {
			return nil, err
		}
		if err := b.run(b.root, nil, "strip", "--strip-debug", dst); err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	return out, nil
}

// findFile finds the one file called name under dir.
func findFile(dir, name string) (string, error) {
	var found []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == name {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		return "", fmt.Errorf("the build made %d files %s under %s, want 1", len(found), name, dir)
	}
	return found[0], nil
}

// guestPrograms are the userland programs the guest runs.
var guestPrograms = []string{"sbin/zpool", "sbin/zfs"}

// userland copies zpool, zfs, the compatibility profiles, and every shared
// library ldd resolves for the programs (the packages' own libraries
// first, then the host's) with the dynamic loader.
func (b *builder) userland(ext string) error {
	var libPath []string
	for _, d := range []string{"lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"} {
		libPath = append(libPath, filepath.Join(ext, d))
	}
	libs := map[string]bool{}
	for _, p := range guestPrograms {
		if err := copyFile(filepath.Join(ext, p), filepath.Join(b.root, p), 0o755); err != nil {
			return err
		}
		cmd := exec.CommandContext(b.ctx, "ldd", filepath.Join(ext, p))
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+strings.Join(libPath, ":"))
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("ldd %s: %v", p, err)
		}
		deps, err := parseLdd(out)
		if err != nil {
			return fmt.Errorf("ldd %s: %w (install the library's package)", p, err)
		}
		for _, d := range deps {
			libs[d] = true
		}
	}
	for l := range libs {
		real, err := filepath.EvalSymlinks(l)
		if err != nil {
			return err
		}
		// The library goes where the guest's loader looks for it: its
		// directory in the host's (or the package's) tree.
		dst := l
		if rel, err := filepath.Rel(ext, l); err == nil && !strings.HasPrefix(rel, "..") {
			dst = "/" + rel
		}
		if err := copyFile(real, filepath.Join(b.root, dst), 0o755); err != nil {
			return err
		}
	}
	compat := filepath.Join(ext, "usr", "share", "zfs", "compatibility.d")
	ents, err := os.ReadDir(compat)
	if err != nil {
		return fmt.Errorf("%s: no compatibility profiles: %w", utilsPackage, err)
	}
	for _, e := range ents {
		src := filepath.Join(compat, e.Name())
		if real, err := filepath.EvalSymlinks(src); err == nil {
			src = real
		}
		if err := copyFile(src, filepath.Join(b.root, "usr", "share", "zfs", "compatibility.d", e.Name()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// parseLdd returns the absolute paths of the libraries in ldd's output
// ("libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)", the loader as
// "/lib64/ld-linux-x86-64.so.2 (0x...)"); a "not found" is an error.
func parseLdd(out []byte) ([]string, error) {
	var libs []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "linux-vdso") {
			continue
		}
		if strings.Contains(l, "not found") {
			return nil, errors.New(l)
		}
		f := strings.Fields(l)
		switch {
		case len(f) >= 3 && f[1] == "=>":
			libs = append(libs, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			libs = append(libs, f[0])
		}
	}
	if len(libs) == 0 {
		return nil, errors.New("no libraries at all: not a dynamically linked program")
	}
	return libs, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}

// GuestKernel is the version of the kernel the vmtest Linux guest boots:
// the newest readable /boot/vmlinuz-KVER that has /lib/modules/KVER (the
// harness's choice too).
func GuestKernel() (string, error) {
	paths, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Strings(paths)
	for i := len(paths) - 1; i >= 0; i-- {
		k := strings.TrimPrefix(filepath.Base(paths[i]), "vmlinuz-")
		if _, err := os.Stat(filepath.Join("/lib/modules", k, "modules.dep")); err == nil {
			return k, nil
		}
	}
	return "", errors.New("no /boot/vmlinuz-KVER with /lib/modules/KVER (install linux-image-amd64)")
}
