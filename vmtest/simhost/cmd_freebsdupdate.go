// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mattn/go-isatty"
)

// fuOptions are freebsd-update's command-line options.
type fuOptions struct {
	workdir      string
	basedir      string
	release      string
	notCron      bool
	force        bool
	currentlyRun string
	cmds         []string
	// script is what the installed script's command line knows.
	script fuScript
}

// fuScript is what the installed /usr/sbin/freebsd-update knows. -F and
// --not-running-from-cron came together with EN-15:04 (13 May 2015;
// 10.2-RELEASE is the first release to ship them). A script without them
// prints its usage for either and exits 0, having done nothing; its fetch
// refuses to run without a terminal, with no way around it. createBE: it
// has install_create_be (see Release.Has(CapCreateBootEnv)); pkgbase: it
// runs check_pkgbase before any command (CapPkgbaseCheck).
type fuScript struct {
	notCron, force    bool
	createBE, pkgbase bool
}

// fuScriptOf reads the case branches of the script's parse_cmdline and the
// functions it defines.
func fuScriptOf(script []byte) fuScript {
	var s fuScript
	for _, line := range strings.Split(string(script), "\n") {
		switch strings.TrimSpace(line) {
		case "--not-running-from-cron)":
			s.notCron = true
		case "-F)":
			s.force = true
		case "install_create_be () {":
			s.createBE = true
		case "check_pkgbase()":
			s.pkgbase = true
		}
	}
	return s
}

// parseFUOptions reads freebsd-update's options, which may come before or
// after the commands. A script that predates --not-running-from-cron
// answers every command line it does not accept with its usage, on
// standard output, and exit status 0, as freebsd-update.sh's usage() did.
func parseFUOptions(inv *Invocation) (fuOptions, int, bool) {
	o := fuOptions{workdir: "/var/db/freebsd-update", basedir: "/"}
	data, _ := inv.readFile(inv.resolve("/usr/sbin/freebsd-update"))
	o.script = fuScriptOf(data)
	usage := func() (fuOptions, int, bool) {
		if !o.script.notCron {
			inv.out("%s", fuUsageBefore2015)
			return o, 0, false
		}
		inv.errf("usage: freebsd-update [options] command ...\n")
		return o, 1, false
	}
	args := inv.Args
	for i := 0; i < len(args); i++ {
		a := args[i]
		needValue := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		var ok bool
		switch a {
		case "--not-running-from-cron":
			if !o.script.notCron {
				return usage()
			}
			o.notCron = true
		case "-F":
			if !o.script.force {
				return usage()
			}
			o.force = true
		case "-d":
			if o.workdir, ok = needValue(); !ok {
				return usage()
			}
		case "-b":
			if o.basedir, ok = needValue(); !ok {
				return usage()
			}
		case "-r":
			if o.release, ok = needValue(); !ok {
				return usage()
			}
		case "--currently-running":
			if o.currentlyRun, ok = needValue(); !ok {
				return usage()
			}
		case "-f", "-j", "-k", "-s", "-t":
			return o, inv.unsupported("option " + a), false
		case "fetch", "upgrade", "install", "rollback", "updatesready":
			o.cmds = append(o.cmds, a)
		case "cron", "IDS", "showconfig":
			return o, inv.unsupported("command " + a), false
		default:
			return usage()
		}
	}
	if len(o.cmds) == 0 {
		return usage()
	}
	// config_SourceRelease: a bare number is taken as NUMBER-RELEASE.
	if o.currentlyRun != "" && strings.Trim(o.currentlyRun, "0123456789.") == "" {
		o.currentlyRun += "-RELEASE"
	}
	return o, 0, true
}

// bdHash is BDHASH, the name of the pending state of a base directory in
// the work directory: `echo ${BASEDIR} | sha256 -q` (fetchupgrade_check_params,
// install_check_params, rollback_check_params), the sha256 of the -b
// argument as given, with a newline.
func (o fuOptions) bdHash() string { return sha256Hex([]byte(o.basedir + "\n")) }

func (o fuOptions) link(kind string) string { return path.Join(o.workdir, o.bdHash()+"-"+kind) }

// base is where a path of the installed system lives: under BASEDIR, as
// fetch_inspect_system, install_from_index and install_delete read and
// write ${BASEDIR}/${F}.
func (o fuOptions) base(p string) string { return path.Join(o.basedir, p) }

// workdirOK is the WORKDIR check of fetchupgrade_check_params,
// install_check_params and rollback_check_params: the directory must exist
// and be writable, or the command fails with "Directory does not exist or
// is not writable" (exit 1).
func (inv *Invocation) workdirOK(o fuOptions) bool {
	if st, err := os.Stat(inv.m.HostPath(o.workdir)); err == nil && st.IsDir() {
		return true
	}
	inv.out("freebsd-update: Directory does not exist or is not writable: %s\n", o.workdir)
	return false
}

// pending reports whether an install is pending (the -install link exists).
func (inv *Invocation) pending(o fuOptions) bool {
	st, err := os.Lstat(inv.m.HostPath(o.link("install")))
	return err == nil && st.Mode()&os.ModeSymlink != 0
}

// marker reports whether a marker exists in the pending install directory.
func (inv *Invocation) marker(o fuOptions, name string) bool {
	_, err := os.Stat(inv.m.HostPath(path.Join(o.link("install"), name)))
	return err == nil
}

func cmdFreebsdUpdate(inv *Invocation) int {
	o, code, ok := parseFUOptions(inv)
	if !ok {
		return code
	}
	// The entry point of freebsd-update.sh runs check_pkgbase after
	// get_params and before any command, updatesready included.
	if o.script.pkgbase && inv.packagedBase(o) {
		inv.out("freebsd-update is incompatible with the use of packaged base.  Please see\nhttps://wiki.freebsd.org/PkgBase for more information.\n")
		return 1
	}
	fetched := false
	for _, c := range o.cmds {
		var code int
		switch c {
		case "updatesready":
			code = fuUpdatesReady(inv, o)
		case "fetch":
			code = fuFetch(inv, o)
			fetched = true
		case "upgrade":
			code = fuUpgrade(inv, o)
			fetched = true
		case "install":
			code = fuInstall(inv, o, fetched)
		case "rollback":
			code = fuRollback(inv, o)
		}
		if code != 0 || inv.cutMidway {
			return code
		}
	}
	return 0
}

// packagedBase is freebsd-update.sh's check_pkgbase: pkg is bootstrapped
// (`pkg -N -r ${BASEDIR}` succeeds: the running system's
// /usr/local/sbin/pkg runs and BASEDIR has packages registered) and a
// package installed BASEDIR's /usr/bin/uname (`pkg -r ${BASEDIR} which`).
func (inv *Invocation) packagedBase(o fuOptions) bool {
	data, err := inv.readFile(inv.resolve("/usr/local/sbin/pkg"))
	if err != nil {
		return false
	}
	if miss, _ := inv.missingObject(data, "pkg", 0); miss != "" {
		return false
	}
	db, err := readPkgDB(inv.m.HostPath(o.basedir))
	return err == nil && len(db.Packages) > 0 && db.ownerOf("/usr/bin/uname") != nil
}

func fuUpdatesReady(inv *Invocation, o fuOptions) int {
	// cmd_updatesready: a work directory that does not exist means no
	// updates.
	if !inv.pending(o) {
		inv.out("No updates are available to install.\n")
		return 2
	}
	inv.out("There are updates available to install.\nRun 'freebsd-update [options] install' to proceed.\n")
	return 0
}

// srcSkipped prints the notice for the src component bsdinstall omits
// (finalize_components_config looks for ${BASEDIR}/usr/src/COPYRIGHT).
func (inv *Invocation) srcSkipped(o fuOptions) {
	if exists, _ := inv.stat(inv.resolve(o.base("/usr/src"))); !exists {
		inv.out("src component not installed, skipped\n")
	}
}

// installHint is how the release's freebsd-update names the next command.
func (inv *Invocation) installHint() string {
	if inv.userland().AtLeast(12, 0) {
		return "'freebsd-update [options] install'"
	}
	return "\"/usr/sbin/freebsd-update install\""
}

// currentRelease is what freebsd-update believes is running (uname -r,
// or --currently-running).
func (inv *Invocation) currentRelease(o fuOptions) (Release, error) {
	if o.currentlyRun != "" {
		return ParseRelease(o.currentlyRun)
	}
	return inv.runningKernel(), nil
}

// latestPatch is the newest patch level the update servers have for rel.
func (inv *Invocation) latestPatch(rel Release) int {
	return inv.model.Behavior.Updates[rel.Base().String()]
}

// fuCheckParams runs the checks fetch and upgrade share.
func fuCheckParams(inv *Invocation, o fuOptions, cur Release) int {
	// The kerneldone check came with -F (EN-15:04).
	if o.script.force && inv.pending(o) && inv.marker(o, "kerneldone") && !o.force {
		inv.out("You have a partially completed upgrade pending\nRun 'freebsd-update [options] install' first.\nRun 'freebsd-update [options] fetch -F' to proceed anyway.\n")
		return 1
	}
	b := cur.Branch
	if b != "RELEASE" && !strings.HasPrefix(b, "BETA") && !strings.HasPrefix(b, "RC") && !strings.HasPrefix(b, "ALPHA") {
		inv.out("Cannot upgrade from a version that is not a release\n(including alpha, beta and release candidates)\nusing freebsd-update. Instead, FreeBSD can be directly\nupgraded by source or upgraded to a RELEASE/RELENG version\nprior to running freebsd-update.\nCurrently running: %s\n", cur)
		return 1
	}
	return 0
}

// sanityPatternOK reports whether /usr/sbin/freebsd-update accepts the
// path characters of a release's metadata: 9.0 metadata has % and @,
// which the 8.x fetch_metadata_sanity pattern rejects.
func (inv *Invocation) sanityPatternOK(target Release) bool {
	if !target.AtLeast(9, 0) {
		return true
	}
	data, _ := inv.readFile(inv.resolve("/usr/sbin/freebsd-update"))
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "P="); ok {
			return strings.Contains(rest, "%") && strings.Contains(rest, "@")
		}
	}
	return false
}

// fetchMetadata prints the mirror lookup and the metadata fetch for a release;
// it fails as the real one does for a release the servers do not carry.
func (inv *Invocation) fetchMetadata(rel Release, first bool) int {
	if first {
		inv.out("Looking up update.FreeBSD.org mirrors... 3 mirrors found.\n")
	}
	if !rel.Known() {
		for i := 1; i <= 3; i++ {
			inv.out("Fetching metadata signature for %s from update%d.freebsd.org... failed.\n", rel.Base(), i)
		}
		inv.out("No mirrors remaining, giving up.\n")
		return 1
	}
	inv.out("Fetching metadata signature for %s from update1.freebsd.org... done.\nFetching metadata index... done.\n", rel.Base())
	if !inv.sanityPatternOK(rel) {
		if inv.userland().AtLeast(9, 0) {
			inv.out("The update metadata is correctly signed, but\nfailed an integrity check (invalid type f entry).\nCowardly refusing to proceed any further.\n")
		} else {
			inv.out("The update metadata is correctly signed, but\nfailed an integrity check.\nCowardly refusing to proceed any further.\n")
		}
		return 1
	}
	inv.out("Fetching 1 metadata patches. done.\nApplying metadata patches... done.\nFetching 1 metadata files... done.\nInspecting system... done.\n")
	return 0
}

// TTYEnv set to "stdin" makes a command's standard input stand for its
// controlling terminal: for tests that drive commands by hand, in process.
const TTYEnv = "SIMHOST_TTY"

// tty opens the controlling terminal, /dev/tty, as the script's
// redirections do; without one the open fails (ENXIO), as on FreeBSD.
func (inv *Invocation) tty(stdin *bufio.Reader) (*bufio.Reader, func(), error) {
	if inv.env(TTYEnv) == "stdin" {
		return stdin, func() {}, nil
	}
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, errors.New("Device not configured")
	}
	return bufio.NewReader(f), func() { f.Close() }, nil
}

// continuep asks "Does this look reasonable (y/n)?" on standard input;
// end of input counts as yes, as in freebsd-update.sh.
func (inv *Invocation) continuep(in *bufio.Reader) bool {
	for {
		inv.out("Does this look reasonable (y/n)? ")
		line, err := in.ReadString('\n')
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "y"), strings.HasPrefix(line, "Y"):
			inv.out("\n")
			return true
		case strings.HasPrefix(line, "n"), strings.HasPrefix(line, "N"):
			inv.out("\n")
			return false
		}
		if err != nil {
			inv.out("\n")
			return true
		}
	}
}

// isTerminal reports whether a stream is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// page shows a list as freebsd-update does: through $PAGER (less by
// default). A pager other than cat only stops for keys when standard
// output is a terminal; then it waits for a line on standard input.
func (inv *Invocation) page(in *bufio.Reader, text string) {
	pager := inv.env("PAGER")
	if pager == "" {
		pager = "/usr/bin/less"
	}
	inv.out("%s", text)
	if path.Base(pager) != "cat" && isTerminal(inv.Stdout) {
		inv.out("(END)")
		in.ReadString('\n')
		inv.out("\n")
	}
}

// releaseFiles are the distribution files of a release, keyed by path.
func (inv *Invocation) releaseFiles(rel Release) map[string]treeFile {
	return worldFiles(rel, inv.model.Arch)
}

// writeIndex writes an INDEX file and stores the files' content.
func (inv *Invocation) writeIndex(dir, name, filesDir string, files map[string]treeFile) error {
	var lines []string
	dirs := map[string]bool{}
	for p, f := range files {
		if f.Mode.IsDir() {
			continue
		}
		sum := sha256Hex(f.Data)
		lines = append(lines, fmt.Sprintf("%s|f|0|0|%04o|0|%s|", p, f.Mode.Perm(), sum))
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
		gz := filepath.Join(filesDir, sum+".gz")
		if _, err := os.Stat(gz); err == nil {
			continue
		}
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(f.Data)
		w.Close()
		if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	for d := range dirs {
		lines = append(lines, fmt.Sprintf("%s|d|0|0|0755|0||", d))
	}
	sort.Strings(lines)
	return os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// indexEntry is one file line of an INDEX.
type indexEntry struct {
	path string
	mode os.FileMode
	hash string
}

// readIndex reads the file entries of an INDEX.
func readIndex(file string) (map[string]indexEntry, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string]indexEntry{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 7 || f[1] != "f" {
			continue
		}
		mode, _ := strconv.ParseUint(f[4], 8, 32)
		out[f[0]] = indexEntry{path: f[0], mode: os.FileMode(mode), hash: f[6]}
	}
	return out, nil
}

// prepareInstall creates the pending install of the target files, as
// fetch and upgrade leave it: INDEX-OLD, INDEX-NEW, the files, and the
// link <BDHASH>-install -> install.XXXXXX.
func (inv *Invocation) prepareInstall(o fuOptions, old, new map[string]treeFile, kernelFirst bool) error {
	work := inv.m.HostPath(o.workdir)
	filesDir := filepath.Join(work, "files")
	if err := os.MkdirAll(filesDir, 0o755); err != nil {
		return err
	}
	name := "install." + sha256Hex([]byte(inv.model.Clock.String()))[:6]
	dir := filepath.Join(work, name)
	os.RemoveAll(dir)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if err := inv.writeIndex(dir, "INDEX-OLD", filesDir, old); err != nil {
		return err
	}
	if err := inv.writeIndex(dir, "INDEX-NEW", filesDir, new); err != nil {
		return err
	}
	if kernelFirst {
		if err := os.WriteFile(filepath.Join(dir, "kernelfirst"), nil, 0o644); err != nil {
			return err
		}
	}
	link := inv.m.HostPath(o.link("install"))
	os.Remove(link)
	return os.Symlink(name, link)
}

// writeTag records which release the fetched metadata is for.
func (inv *Invocation) writeTag(o fuOptions, rel Release) error {
	tag := fmt.Sprintf("freebsd-update|%s|%s|%d|%s|%d\n", inv.model.Arch, rel.Base(), rel.Patch, sha256Hex([]byte(rel.String()))[:64], 1767225600)
	return os.WriteFile(inv.m.HostPath(path.Join(o.workdir, "tag")), []byte(tag), 0o644)
}

// installedFiles reads the distribution files currently installed under
// BASEDIR, as INDEX-OLD lists them: the files of the installed releases of
// kernel and world, with the kernel of configuration ident ("" without the
// kernel component, see withKernel).
func (inv *Invocation) installedFiles(o fuOptions, ident string) map[string]treeFile {
	out := map[string]treeFile{}
	k, u := inv.baseReleases(o)
	for p, f := range inv.releaseFiles(u) {
		if !strings.HasPrefix(p, "/boot/") {
			out[p] = f
		}
	}
	for p, f := range inv.releaseFiles(k) {
		if strings.HasPrefix(p, "/boot/") {
			out[p] = f
		}
	}
	return inv.withKernel(out, k, ident)
}

// baseReleases are the releases of the kernel and the userland installed
// under BASEDIR (what fetch_inspect_system finds there).
func (inv *Invocation) baseReleases(o fuOptions) (kernel, userland Release) {
	kernel, _ = inv.programRelease(o.base("/boot/kernel/kernel"))
	if r, ok := inv.programRelease(o.base("/bin/freebsd-version")); ok {
		return kernel, r
	}
	userland, _ = inv.programRelease(o.base("/usr/bin/uname"))
	return kernel, userland
}

// kernelComponent is freebsd-update's KCOMP: the running kernel's
// configuration (KERNCONF, `uname -i` in fetchupgrade_check_params) in
// lower case, as upgrade_guess_components names the kernel component.
func (inv *Invocation) kernelComponent() string { return strings.ToLower(inv.kernelIdent()) }

// distributesKernel reports whether the update servers carry the kernel
// component kernel|kcomp for a release: GENERIC always, others only as the
// spec's kernel_configs say.
func (inv *Invocation) distributesKernel(rel Release, kcomp string) bool {
	if kcomp == strings.ToLower(GenericKernel) {
		return true
	}
	for _, c := range inv.model.Behavior.KernelConfigs[rel.Base().String()] {
		if strings.EqualFold(c, kcomp) {
			return true
		}
	}
	return false
}

// withKernel returns files with the kernel (/boot/kernel/) of release rel
// built from configuration ident, or without any kernel file when ident is
// "": a kernel component that is not among the components freebsd-update
// keeps updated is not in its indexes at all (fetch_filter_metadata), and
// fetch_filter_kernel_names maps /boot/KERNCONF to the running kernel's
// directory only for the running configuration.
func (inv *Invocation) withKernel(files map[string]treeFile, rel Release, ident string) map[string]treeFile {
	out := map[string]treeFile{}
	for p, f := range files {
		if !strings.HasPrefix(p, "/boot/kernel/") {
			out[p] = f
		}
	}
	if ident != "" {
		out["/boot/kernel/kernel"] = treeFile{Data: makeKernel(rel, inv.model.Arch, ident), Mode: 0o555}
	}
	return out
}

func fuFetch(inv *Invocation, o fuOptions) int {
	if !o.notCron && !isTerminal(inv.Stdin) {
		inv.out("freebsd-update fetch should not be run non-interactively.\nRun freebsd-update cron instead.\n")
		return 1
	}
	if !inv.workdirOK(o) {
		return 1
	}
	cur, err := inv.currentRelease(o)
	if err != nil {
		inv.errf("freebsd-update: %v\n", err)
		return 1
	}
	inv.srcSkipped(o)
	if code := fuCheckParams(inv, o, cur); code != 0 {
		return code
	}
	if code := inv.fetchMetadata(cur, true); code != 0 {
		return code
	}
	target := cur.Base()
	target.Patch = inv.latestPatch(cur)
	if err := inv.writeTag(o, target); err != nil {
		inv.errf("freebsd-update: %v\n", err)
		return 1
	}
	// A kernel configuration the servers do not carry is left alone, and
	// silently: its /boot/GENERIC paths are not translated to the running
	// kernel's directory, are not present on disk, and
	// fetch_filter_unmodified_notpresent drops them.
	ident := inv.kernelIdent()
	kernel := inv.distributesKernel(cur, inv.kernelComponent())
	if !kernel {
		ident = ""
	}
	k, u := inv.baseReleases(o)
	if (!kernel || target.Compare(k) <= 0) && target.Compare(u) <= 0 {
		inv.out("Preparing to download files... done.\n\nNo updates needed to update system to %s.\n", target)
		return 0
	}
	inv.out("Preparing to download files... done.\nFetching %d patches. done.\nApplying patches... done.\n", 2)
	old := inv.installedFiles(o, ident)
	new := map[string]treeFile{}
	var changed []string
	for p, f := range inv.withKernel(inv.releaseFiles(target), target, ident) {
		if o, ok := old[p]; !ok || !bytes.Equal(o.Data, f.Data) {
			changed = append(changed, p)
		}
		new[p] = f
	}
	sort.Strings(changed)
	in := bufio.NewReader(inv.Stdin)
	inv.page(in, fmt.Sprintf("The following files will be updated as part of updating to\n%s:\n%s\n", target, strings.Join(changed, "\n")))
	if err := inv.prepareInstall(o, old, new, false); err != nil {
		inv.errf("freebsd-update: %v\n", err)
		return 1
	}
	return 0
}

func fuUpgrade(inv *Invocation, o fuOptions) int {
	// upgrade_check_params: fetchupgrade_check_params (the work
	// directory) comes before the target release.
	if !inv.workdirOK(o) {
		return 1
	}
	if o.release == "" {
		inv.out("Release target must be specified via '-r' option.\n")
		return 1
	}
	target, err := ParseRelease(o.release)
	if err != nil {
		inv.out("Release target must be specified via '-r' option.\n")
		return 1
	}
	cur, err := inv.currentRelease(o)
	if err != nil {
		inv.errf("freebsd-update: %v\n", err)
		return 1
	}
	inv.srcSkipped(o)
	if target.Base() == cur.Base() {
		inv.out("Cannot upgrade from %s to itself\n", cur.Base())
		return 1
	}
	if code := fuCheckParams(inv, o, cur); code != 0 {
		return code
	}
	if code := inv.fetchMetadata(cur, true); code != 0 {
		return code
	}
	in := bufio.NewReader(inv.Stdin)
	// upgrade_guess_components: the running configuration's kernel
	// component is installed when the release distributes it; otherwise
	// freebsd-update warns that it will not update the kernel, and leaves
	// the kernel out of the upgrade.
	kconf, kcomp := inv.kernelIdent(), inv.kernelComponent()
	kernel := inv.distributesKernel(cur, kcomp)
	present, absent := "kernel/"+kcomp+" world/base", "kernel/generic-dbg world/base-dbg world/lib32 world/lib32-dbg"
	if kcomp != "generic" {
		absent = "kernel/generic " + absent
	}
	if !kernel {
		present = "world/base"
		name, end := kcomp, "."
		if !inv.userland().AtLeast(12, 0) {
			// The script of the 9.0 Handbook names KERNCONF and ends
			// without a full stop.
			name, end = kconf, ""
		}
		inv.out("\nWARNING: This system is running a \"%s\" kernel, which is not a\nkernel configuration distributed as part of FreeBSD %s.\nThis kernel will not be updated: you MUST update the kernel manually\nbefore running %s%s\n", name, cur.Base(), inv.installHint(), end)
	}
	inv.out("\nThe following components of FreeBSD seem to be installed:\n%s\n\nThe following components of FreeBSD do not seem to be installed:\n%s\n\n", present, absent)
	if !inv.continuep(in) {
		return 1
	}
	if code := inv.fetchMetadata(target, false); code != 0 {
		return code
	}
	// upgrade_guess_new_kernel: an installed kernel component the new
	// release lacks is replaced with kernel/generic (NKERNCONF=GENERIC),
	// if the admin agrees (continuep on standard input).
	oldIdent, newIdent := "", ""
	if kernel {
		oldIdent, newIdent = kconf, kconf
		if !inv.distributesKernel(target, kcomp) {
			inv.out("\nWARNING: This system is running a \"%s\" kernel, which is not a\nkernel configuration distributed as part of FreeBSD %s.\nAs part of upgrading to FreeBSD %s, this kernel will be\nreplaced with a \"generic\" kernel.\n", kcomp, target.Base(), target.Base())
			if !inv.continuep(in) {
				return 1
			}
			newIdent = GenericKernel
		}
	}
	if target.Compare(cur.Base()) < 0 {
		inv.out("Files on mirror (%s) appear older than what\nwe are currently running (%s)!\nCowardly refusing to proceed any further.\n", target.Base(), cur)
		return 1
	}
	target = target.Base()
	target.Patch = inv.latestPatch(target)
	inv.out("Fetching files from %s for merging... done.\nPreparing to download files... done.\nFetching 2 patches. done.\nApplying patches... done.\nFetching 1 files... done.\nAttempting to automatically merge changes in files... done.\n", cur.Base())
	for _, f := range inv.model.Behavior.Conflicts {
		editor := inv.env("EDITOR")
		if editor == "" {
			editor = "/usr/bin/vi"
		}
		inv.trapEnds()
		inv.out("\nThe following file could not be merged automatically: %s\nPress Enter to edit this file in %s and resolve the conflicts\nmanually...\n", f, editor)
		// The real tool now reads /dev/tty and runs the editor, and
		// refuses to go on while conflict markers remain: unattended,
		// it never returns.
		inv.out("Merge conflict markers remain in: %s\n", f)
		return inv.waitKilled()
	}
	inv.out("\nThe following changes, which occurred between FreeBSD %s and\nFreeBSD %s have been merged into /etc/ssh/sshd_config:\n--- current version\n+++ new version\n@@ -1,3 +1,3 @@\n-#\t$FreeBSD$\n+#\tsshd_config for %s\n", cur.Base(), target.Base(), target.Base())
	// The script asks this one with `continuep < /dev/tty`: on the
	// controlling terminal, not standard input.
	tty, closeTTY, err := inv.tty(in)
	if err != nil {
		inv.errf("/usr/sbin/freebsd-update: cannot open /dev/tty: %s\n", err)
		return 1
	}
	ok := inv.continuep(tty)
	closeTTY()
	if !ok {
		return 1
	}
	old := inv.installedFiles(o, oldIdent)
	new := inv.withKernel(inv.releaseFiles(target), target, newIdent)
	var removed, added, updated []string
	for p := range old {
		if _, ok := new[p]; !ok {
			removed = append(removed, p)
		}
	}
	for p, f := range new {
		if o, ok := old[p]; !ok {
			added = append(added, p)
		} else if !bytes.Equal(o.Data, f.Data) {
			updated = append(updated, p)
		}
	}
	sort.Strings(removed)
	sort.Strings(added)
	sort.Strings(updated)
	var b strings.Builder
	if len(removed) > 0 {
		fmt.Fprintf(&b, "The following files will be removed as part of updating to\n%s-p%d:\n%s\n", target.Base(), target.Patch, strings.Join(removed, "\n"))
	}
	if len(added) > 0 {
		fmt.Fprintf(&b, "The following files will be added as part of updating to\n%s-p%d:\n%s\n", target.Base(), target.Patch, strings.Join(added, "\n"))
	}
	fmt.Fprintf(&b, "The following files will be updated as part of updating to\n%s-p%d:\n%s\n", target.Base(), target.Patch, strings.Join(updated, "\n"))
	inv.page(in, b.String())
	if err := inv.writeTag(o, target); err != nil {
		inv.errf("freebsd-update: %v\n", err)
		return 1
	}
	if err := inv.prepareInstall(o, old, new, true); err != nil {
		inv.errf("freebsd-update: %v\n", err)
		return 1
	}
	inv.out("To install the downloaded upgrades, run %s.\n", inv.installHint())
	return 0
}

// createBootEnv is freebsd-update's install_create_be, in the scripts that
// have it. BOOTENV is what /etc/freebsd-update.conf says (parse_conffile;
// anything after a '#' is ignored), else yes (default_params sets
// config_CreateBootEnv yes, and the shipped file has it only as a comment).
// No BE in a jail, for a basedir other than /, or when `bectl check` fails.
func (inv *Invocation) createBootEnv(o fuOptions) int {
	if !o.script.createBE {
		return 0
	}
	data, _ := inv.readFile(inv.resolve("/etc/freebsd-update.conf"))
	bootenv := ""
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "CreateBootEnv" && bootenv == "" {
			bootenv = strings.ToLower(f[1])
		}
	}
	if bootenv == "" {
		bootenv = "yes"
	}
	if bootenv != "yes" || inv.model.Behavior.Jailed || o.basedir != "/" {
		return 0
	}
	p, ok := inv.beSupported()
	if !ok {
		return 0
	}
	inv.out("Creating snapshot of existing boot environment... ")
	k, _ := inv.installedKernel()
	ver := inv.userland()
	if k.Compare(ver) > 0 {
		ver = k
	}
	name := ver.String() + "_" + inv.model.Clock.UTC().Format("2006-01-02_150405")
	if err := inv.createBE(p, name); err != nil {
		inv.out("failed.\n")
		return 1
	}
	inv.out("done.\n")
	return 0
}

func fuInstall(inv *Invocation, o fuOptions, fetched bool) int {
	inv.srcSkipped(o)
	if !inv.workdirOK(o) {
		return 1
	}
	if !inv.pending(o) {
		inv.out("No updates are available to install.\n")
		if !fetched {
			inv.out("Run 'freebsd-update [options] fetch' first.\n")
			return 2
		}
		return 0
	}
	dir := inv.m.HostPath(o.link("install"))
	oldIdx, err1 := readIndex(filepath.Join(dir, "INDEX-OLD"))
	newIdx, err2 := readIndex(filepath.Join(dir, "INDEX-NEW"))
	if err1 != nil || err2 != nil {
		inv.out("Update manifest is corrupt -- this should never happen.\n")
		return 1
	}
	if code := inv.createBootEnv(o); code != 0 {
		return code
	}
	inv.out("Installing updates...")
	kernelFirst := inv.marker(o, "kernelfirst")
	touch := func(name string) { os.WriteFile(filepath.Join(dir, name), nil, 0o644) }
	isBoot := func(p string) bool { return strings.HasPrefix(p, "/boot/") }
	isLib := func(p string) bool { return strings.Contains(path.Base(p), ".so.") }

	if !inv.marker(o, "kerneldone") {
		if code := inv.installEntries(o, newIdx, sortedPaths(newIdx, isBoot), nil); code != 0 {
			return code
		}
		inv.removeEntries(o, oldIdx, newIdx, isBoot)
		touch("kerneldone")
		if inv.cutMidway {
			return 0
		}
		if kernelFirst {
			inv.out("\nKernel updates have been installed.  Please reboot and run\n%s again to finish installing updates.\n", inv.installHint())
			return 0
		}
	}
	if !inv.marker(o, "worlddone") {
		world := func(p string) bool { return !isBoot(p) }
		libs := sortedPaths(newIdx, func(p string) bool { return world(p) && isLib(p) })
		if inv.libsysFirst() {
			sort.SliceStable(libs, func(i, j int) bool {
				return strings.HasPrefix(path.Base(libs[i]), "libsys.so") && !strings.HasPrefix(path.Base(libs[j]), "libsys.so")
			})
		}
		rest := sortedPaths(newIdx, func(p string) bool { return world(p) && !isLib(p) })
		if code := inv.installEntries(o, newIdx, libs, rest); code != 0 {
			return code
		}
		if inv.cutMidway {
			return 0
		}
		// install_files restarts the host's sshd only when BASEDIR is /
		// (PR263489).
		if conf, err := readRCConf(inv.m.HostPath("/etc/rc.conf")); err == nil && o.basedir == "/" {
			if v, _ := conf.get("sshd_enable"); yes(v) && kernelFirst {
				inv.out("\nRestarting sshd after upgrade\nPerforming sanity check on sshd configuration.\nStopping sshd.\nWaiting for PIDS: 906.\nPerforming sanity check on sshd configuration.\nStarting sshd.\n")
			}
		}
		inv.removeEntries(o, oldIdx, newIdx, func(p string) bool { return world(p) && !isLib(p) })
		touch("worlddone")
		oldLibs := false
		for p := range oldIdx {
			if _, ok := newIdx[p]; !ok && isLib(p) {
				oldLibs = true
			}
		}
		if oldLibs {
			if !kernelFirst {
				inv.out("\n")
			}
			inv.out("\nCompleting this upgrade requires removing old shared object files.\nPlease rebuild all installed 3rd party software (e.g., programs\ninstalled from the ports tree) and then run\n%s again to finish installing updates.\n", inv.installHint())
			return 0
		}
	}
	inv.removeEntries(o, oldIdx, newIdx, isLib)
	if err := inv.setupRollback(o); err != nil {
		inv.errf("freebsd-update: %v\n", err)
		return 1
	}
	inv.out(" done.\n")
	return 0
}

// setupRollback is freebsd-update.sh's install_setup_rollback: the markers
// go (kernelfirst with kerneldone, and worlddone), the previous
// <BDHASH>-rollback link moves into the install directory as its
// "rollback" link, and <BDHASH>-install becomes <BDHASH>-rollback. So each
// rollback directory holds the link to the one before it.
func (inv *Invocation) setupRollback(o fuOptions) error {
	dir := inv.m.HostPath(o.link("install"))
	if inv.marker(o, "kernelfirst") {
		os.Remove(filepath.Join(dir, "kernelfirst"))
		os.Remove(filepath.Join(dir, "kerneldone"))
	}
	os.Remove(filepath.Join(dir, "worlddone"))
	rollback := inv.m.HostPath(o.link("rollback"))
	if target, err := os.Readlink(rollback); err == nil {
		// mv of a symbolic link into a directory: the link, as it is.
		if err := os.Symlink(target, filepath.Join(dir, "rollback")); err != nil {
			return err
		}
		os.Remove(rollback)
	}
	return os.Rename(dir, rollback)
}

// libsysFirst reports whether the running freebsd-update installs libsys
// before libc (EN-25:18).
func (inv *Invocation) libsysFirst() bool {
	data, _ := inv.readFile(inv.resolve("/usr/sbin/freebsd-update"))
	return bytes.Contains(data, []byte("libsys"))
}

func sortedPaths(idx map[string]indexEntry, keep func(string) bool) []string {
	var out []string
	for p := range idx {
		if keep(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// installEntries installs files from the store in order: first, then
// second, under BASEDIR (install_from_index). Each file is installed with
// install(1) of the running system (the script's PATH is
// /sbin:/bin:/usr/sbin:/usr/bin), a dynamic program: once an installed
// shared object leaves it unable to run, the install stops there (bug
// 289769); with BASEDIR other than / the objects it needs are the running
// system's, which the install does not touch. A power cut during the world
// phase stops half way.
func (inv *Invocation) installEntries(o fuOptions, idx map[string]indexEntry, first, second []string) int {
	all := append(append([]string(nil), first...), second...)
	filesDir := inv.m.HostPath(path.Join(o.workdir, "files"))
	stopAt := -1
	if inv.cutMidway && len(second) > 0 {
		stopAt = len(all) / 2
	}
	for i, p := range all {
		if i == stopAt {
			return 0
		}
		if prog, ok := programByName("install"); ok && len(second) > 0 {
			data, err := os.ReadFile(inv.m.HostPath(prog.Path))
			if err == nil {
				if miss, by := inv.missingObject(data, "install", 0); miss != "" {
					inv.out("\nld-elf.so.1: Shared object \"%s\" not found, required by \"%s\"\n", path.Base(miss), by)
					return 1
				}
			}
		}
		e := idx[p]
		gz, err := os.ReadFile(filepath.Join(filesDir, e.hash+".gz"))
		if err != nil {
			inv.out("\nfreebsd-update: %s: files are missing from the work directory\n", p)
			return 1
		}
		r, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return 1
		}
		data, _ := io.ReadAll(r)
		full := inv.m.HostPath(o.base(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.Remove(full)
		if err := os.WriteFile(full, data, e.mode|0o200); err != nil {
			inv.out("\nfreebsd-update: %s: %v\n", p, sysErr(err))
			return 1
		}
	}
	return 0
}

// removeEntries deletes files of the old index that the new one lacks,
// under BASEDIR (install_delete).
func (inv *Invocation) removeEntries(o fuOptions, oldIdx, newIdx map[string]indexEntry, keep func(string) bool) {
	for p := range oldIdx {
		if _, ok := newIdx[p]; !ok && keep(p) {
			os.Remove(inv.m.HostPath(o.base(p)))
		}
	}
}

func fuRollback(inv *Invocation, o fuOptions) int {
	if !inv.workdirOK(o) {
		return 1
	}
	link := inv.m.HostPath(o.link("rollback"))
	if _, err := os.Lstat(link); err != nil {
		inv.out("No rollback directory found.\n")
		return 1
	}
	oldIdx, err1 := readIndex(filepath.Join(link, "INDEX-OLD"))
	newIdx, err2 := readIndex(filepath.Join(link, "INDEX-NEW"))
	if err1 != nil || err2 != nil {
		inv.out("Update manifest is corrupt -- this should never happen.\n")
		return 1
	}
	inv.out("Uninstalling updates...")
	// rollback_run: updates waiting to be installed are dropped first.
	if inv.pending(o) {
		install := inv.m.HostPath(o.link("install"))
		if target, err := os.Readlink(install); err == nil {
			os.RemoveAll(filepath.Join(inv.m.HostPath(o.workdir), target))
		}
		os.Remove(install)
	}
	if code := inv.installEntries(o, oldIdx, nil, sortedPaths(oldIdx, func(string) bool { return true })); code != 0 {
		return code
	}
	inv.removeEntries(o, newIdx, oldIdx, func(string) bool { return true })
	// rollback_setup_rollback: the rollback directory goes, and the one
	// it links to (if any) becomes the next to roll back.
	target, _ := os.Readlink(link)
	dir := filepath.Join(inv.m.HostPath(o.workdir), target)
	prev, prevErr := os.Readlink(filepath.Join(dir, "rollback"))
	os.RemoveAll(dir)
	os.Remove(link)
	if prevErr == nil {
		if err := os.Symlink(prev, link); err != nil {
			inv.errf("freebsd-update: %v\n", err)
			return 1
		}
	}
	inv.out(" done.\n")
	return 0
}
