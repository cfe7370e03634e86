// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// treeFile is a file of a release's base system as the simulated host
// lays it out under the machine's root.
type treeFile struct {
	Data []byte
	Mode fs.FileMode
}

// baseProgram is a program of the base system: the command name zupgrade
// runs, where the release installs it, and whether it is a shell script
// or statically linked.
type baseProgram struct {
	Name   string
	Path   string
	Script bool
	Static bool
	// Has says whether the release ships the program; nil means always.
	Has func(r Release) bool
}

func since(c Capability) func(Release) bool { return func(r Release) bool { return r.Has(c) } }

// basePrograms are the base-system programs the simulated host provides.
var basePrograms = []baseProgram{
	{Name: "sh", Path: "/bin/sh"},
	{Name: "id", Path: "/usr/bin/id"},
	{Name: "uname", Path: "/usr/bin/uname"},
	{Name: "ls", Path: "/bin/ls"},
	{Name: "cat", Path: "/bin/cat"},
	{Name: "grep", Path: "/usr/bin/grep"},
	{Name: "file", Path: "/usr/bin/file"},
	{Name: "sha256", Path: "/sbin/sha256"},
	{Name: "cp", Path: "/bin/cp"},
	{Name: "mv", Path: "/bin/mv"},
	{Name: "rm", Path: "/bin/rm"},
	{Name: "mkdir", Path: "/bin/mkdir"},
	{Name: "install", Path: "/usr/bin/install"},
	{Name: "sync", Path: "/bin/sync"},
	{Name: "sed", Path: "/usr/bin/sed"},
	{Name: "date", Path: "/bin/date"},
	{Name: "dd", Path: "/bin/dd"},
	{Name: "df", Path: "/bin/df"},
	{Name: "logger", Path: "/usr/bin/logger"},
	{Name: "mount", Path: "/sbin/mount"},
	{Name: "mount_msdosfs", Path: "/sbin/mount_msdosfs"},
	{Name: "newfs_msdos", Path: "/sbin/newfs_msdos"},
	{Name: "umount", Path: "/sbin/umount"},
	{Name: "sysctl", Path: "/sbin/sysctl"},
	{Name: "kenv", Path: "/bin/kenv"},
	{Name: "gpart", Path: "/sbin/gpart"},
	{Name: "glabel", Path: "/sbin/glabel"},
	{Name: "zpool", Path: "/sbin/zpool"},
	{Name: "zfs", Path: "/sbin/zfs"},
	{Name: "shutdown", Path: "/sbin/shutdown"},
	{Name: "reboot", Path: "/sbin/reboot"},
	{Name: "freebsd-update", Path: "/usr/sbin/freebsd-update", Script: true},
	{Name: "freebsd-version", Path: "/bin/freebsd-version", Script: true, Has: since(CapFreeBSDVersion)},
	{Name: "bectl", Path: "/sbin/bectl", Has: since(CapBectl)},
	{Name: "efibootmgr", Path: "/usr/sbin/efibootmgr", Has: since(CapEfibootmgr)},
	{Name: "pkg", Path: "/usr/sbin/pkg", Has: since(CapPkg7)},
	{Name: "sysrc", Path: "/usr/sbin/sysrc", Script: true, Has: func(r Release) bool { return r.AtLeast(9, 2) }},
	{Name: "service", Path: "/usr/sbin/service", Script: true},
	{Name: "daemon", Path: "/usr/sbin/daemon"},
	// usr.sbin/watchdogd/Makefile: watchdog is a link to watchdogd.
	{Name: "watchdog", Path: "/usr/sbin/watchdog"},
}

// programByName finds a base program by command name.
func programByName(name string) (baseProgram, bool) {
	for _, p := range basePrograms {
		if p.Name == name {
			return p, true
		}
	}
	return baseProgram{}, false
}

// programFile renders the stand-in for a program: text naming it, its
// release and the shared objects the run-time linker must find.
func programFile(name string, r Release, needs []string, script bool) []byte {
	var b strings.Builder
	if script {
		b.WriteString("#!/bin/sh\n")
	}
	fmt.Fprintf(&b, "# simhost program %s from %s\n", name, r)
	if len(needs) > 0 {
		fmt.Fprintf(&b, "# needs: %s\n", strings.Join(needs, " "))
	}
	return []byte(b.String())
}

// programNeeds reads the "needs:" line of a program or shared object.
func programNeeds(data []byte) []string {
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "# needs: "); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

// libc is the C library's path; every dynamic program needs it.
const libc = "/lib/libc.so.7"

// worldFiles returns the distribution files of release r (what
// freebsd-update lists in its INDEX): kernel and /boot, then userland.
func worldFiles(r Release, arch string) map[string]treeFile {
	files := map[string]treeFile{}
	add := func(path string, data []byte, mode fs.FileMode) { files[path] = treeFile{Data: data, Mode: mode} }

	// Kernel and boot programs.
	add("/boot/kernel/kernel", makeBlob(BlobKernel, r, arch), 0o555)
	add("/boot/pmbr", makeBlob(BlobPMBR, r, arch), 0o444)
	add("/boot/gptzfsboot", makeBlob(BlobGPTZFSBoot, r, arch), 0o444)
	add("/boot/loader", makeBlob(BlobLoader, r, arch), 0o555)
	if r.Has(CapUEFI) {
		add("/boot/loader.efi", makeBlob(BlobLoaderEFI, r, arch), 0o555)
		// stand/efi/boot1/Makefile installs boot1.efi (FILES) on every
		// release; the boot1.efifat image went away with 13.0.
		add("/boot/boot1.efi", makeBlob(BlobBoot1EFI, r, arch), 0o555)
		if !r.AtLeast(13, 0) {
			add("/boot/boot1.efifat", makeBlob(BlobEFIFAT, r, arch), 0o444)
		}
	}
	if r.Has(CapLuaLoader) {
		add("/boot/lua/loader.lua", []byte(fmt.Sprintf("-- simhost loader.lua from %s\n-- requires loader of FreeBSD %d or later\n", r.Base(), r.Major-1)), 0o444)
	}
	add("/boot/defaults/loader.conf", []byte(fmt.Sprintf("# loader.conf defaults from %s\n", r.Base())), 0o444)

	// Shared objects.
	for _, lib := range sharedLibs(r.Major) {
		var needs []string
		if lib == libc && r.Has(CapLibsys) {
			needs = []string{"/lib/libsys.so.7"}
		}
		add(lib, programFile(filepath.Base(lib), r, needs, false), 0o444)
	}

	// Programs.
	for _, p := range basePrograms {
		if p.Has != nil && !p.Has(r) {
			continue
		}
		var needs []string
		if !p.Static && !p.Script {
			needs = []string{libc}
		}
		if p.Script {
			needs = []string{"/bin/sh"}
		}
		data := programFile(p.Name, r, needs, p.Script)
		switch p.Name {
		case "freebsd-update":
			data = append(data, freebsdUpdateScript(r)...)
		case "freebsd-version":
			data = append(data, []byte(fmt.Sprintf("USERLAND_VERSION=\"%s\"\n", r))...)
		}
		add(p.Path, data, 0o555)
	}
	add("/rescue/sh", programFile("sh", r, nil, false), 0o555)
	add("/etc/rc.subr", []byte(rcSubr(r)), 0o444)
	add("/etc/freebsd-update.conf", []byte(freebsdUpdateConf(r)), 0o644)
	if r.AtLeast(13, 0) {
		for name, feats := range compatibilityFiles(r) {
			add("/usr/share/zfs/compatibility.d/"+name, []byte("# "+name+"\n"+strings.Join(feats, "\n")+"\n"), 0o444)
		}
	}
	return files
}

// freebsdUpdateScript renders the parts of freebsd-update.sh the
// simulated freebsd-update reads back from /usr/sbin/freebsd-update: its
// usage and the options its command line knows (-F and
// --not-running-from-cron from EN-15:04 on, see fuScriptOf), the
// metadata path pattern of fetch_metadata_sanity (the 8.x integrity-check
// quirk), from EN-25:18 on the libsys install ordering, and the functions
// install_create_be and check_pkgbase of the releases that have them.
func freebsdUpdateScript(r Release) string {
	var b strings.Builder
	b.WriteString("\n#### Usage function -- called from command-line handling code.\nusage () {\n\tcat <<EOF\n")
	if r.Has(CapCronOption) {
		b.WriteString(fuUsageExcerpt)
	} else {
		b.WriteString(fuUsageBefore2015)
	}
	b.WriteString("EOF\n\texit 0\n}\n")
	if r.Has(CapCronOption) {
		b.WriteString("\n# Parse the command line (excerpt)\nparse_cmdline () {\n\twhile [ $# -gt 0 ]; do\n\t\tcase \"$1\" in\n" +
			"\t\t-F)\n\t\t\tFORCEFETCH=1\n\t\t\t;;\n" +
			"\t\t--not-running-from-cron)\n\t\t\tNOTTYOK=1\n\t\t\t;;\n" +
			"\t\t*)\n\t\t\tusage\n\t\t\t;;\n\t\tesac\n\t\tshift\n\tdone\n}\n")
	}
	b.WriteString("\n# Check that the metadata is sane.\nfetch_metadata_sanity () {\n\t# Some aliases\n\tP=")
	switch {
	case r.AtLeast(12, 0):
		b.WriteString(`"[-+./:=,%@_[~[:alnum:]]"`)
	case r.Has(CapFixedSanityPattern):
		b.WriteString(`"[-+./:=%@_[[:alnum:]]"`)
	default:
		b.WriteString(`"[-+./:=_[[:alnum:]]"`)
	}
	b.WriteString("\n\tM=\"[0-9]+\"\n\tH=\"[0-9a-f]{64}\"\n}\n")
	if r.Has(CapLibsysOrdering) {
		b.WriteString("\n# Install libsys before libc: a new libc needs it (EN-25:18).\ninstall_from_index_libsys_first () {\n\tgrep -E '^/lib/libsys\\.so' INDEX-NEW\n}\n")
	}
	if r.Has(CapCreateBootEnv) {
		b.WriteString("\n# Creates a new boot environment (excerpt)\ninstall_create_be () {\n\tif [ ${BOOTENV} = yes ]; then\n\t\tbectl check 2>/dev/null\n\tfi\n}\n")
	}
	if r.Has(CapPkgbaseCheck) {
		b.WriteString("\n# Return 0 if the system is managed using pkgbase, 1 otherwise (excerpt)\ncheck_pkgbase()\n{\n\tpkg -r ${BASEDIR} which /usr/bin/uname >/dev/null\n}\n")
	}
	return b.String()
}

// fuUsageBefore2015 is the usage freebsd-update printed before EN-15:04
// (the 8.x and 9.x scripts, 10.0 and 10.1), verbatim: it prints it on
// standard output and exits 0 for any option it does not know.
const fuUsageBefore2015 = `usage: freebsd-update [options] command ... [path]

Options:
  -b basedir   -- Operate on a system mounted at basedir
                  (default: /)
  -d workdir   -- Store working files in workdir
                  (default: /var/db/freebsd-update/)
  -f conffile  -- Read configuration options from conffile
                  (default: /etc/freebsd-update.conf)
  -k KEY       -- Trust an RSA key with SHA256 hash of KEY
  -r release   -- Target for upgrade (e.g., 6.2-RELEASE)
  -s server    -- Server from which to fetch updates
                  (default: update.FreeBSD.org)
  -t address   -- Mail output of cron command, if any, to address
                  (default: root)
Commands:
  fetch        -- Fetch updates from server
  cron         -- Sleep rand(3600) seconds, fetch updates, and send an
                  email if updates were found
  upgrade      -- Fetch upgrades to FreeBSD version specified via -r option
  install      -- Install downloaded updates or upgrades
  rollback     -- Uninstall most recently installed updates
  IDS          -- Compare the system against an index of "known good" files.
`

// fuUsageExcerpt is the part of a later script's usage that names the
// options EN-15:04 added (the script file carries it for the quirk probe).
const fuUsageExcerpt = `usage: freebsd-update [options] command ...

Options:
  -F           -- Force a fetch operation to proceed in the
                  case of an unfinished upgrade
  --not-running-from-cron
               -- Run without a tty, for use by automated tools
`

// freebsdUpdateConf renders /etc/freebsd-update.conf for release r.
func freebsdUpdateConf(r Release) string {
	s := "# $FreeBSD$\nKeyPrint 800651ef4b4c71c27e60786d7b487188970f4b4169cc055784e21eb71d410cc5\nServerName update.FreeBSD.org\nComponents src world kernel\nIgnorePaths\nIDSIgnorePaths /usr/share/man/cat\nUpdateIfUnmodified /etc/ /var/ /root/ /.cshrc /.profile\nMergeChanges /etc/ /boot/device.hints\n"
	if r.Has(CapCreateBootEnv) {
		// The shipped file names the default only in a comment; the
		// script's default_params sets it (usr.sbin/freebsd-update/
		// freebsd-update.conf).
		s += "\n# Create a new boot environment when installing patches\n# CreateBootEnv yes\n"
	}
	return s
}

// compatibilityFiles returns the zpool compatibility files release r
// ships (/usr/share/zfs/compatibility.d): one per FreeBSD release up to r
// listing the features that release supports, plus the openzfs aliases.
func compatibilityFiles(r Release) map[string][]string {
	out := map[string][]string{"legacy": nil}
	names := func(rel Release) []string {
		var n []string
		for _, f := range featuresOf(rel) {
			n = append(n, f.Name)
		}
		return n
	}
	for _, k := range knownReleases {
		rel := MustRelease(k + "-RELEASE")
		if rel.Major < 11 || rel.Compare(r.Base()) > 0 {
			continue
		}
		out["freebsd-"+k] = names(rel)
	}
	aliases := map[string]string{"openzfs-2.0-freebsd": "13.0", "openzfs-2.1-freebsd": "13.1", "openzfs-2.2": "14.0", "openzfs-2.3": "15.0"}
	for name, k := range aliases {
		rel := MustRelease(k + "-RELEASE")
		if rel.Compare(r.Base()) <= 0 {
			out[name] = names(rel)
		}
	}
	return out
}

// writeTree writes files under root, creating directories.
func writeTree(root string, files map[string]treeFile) error {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f := files[p]
		full := filepath.Join(root, p)
		if f.Mode.IsDir() {
			if err := os.MkdirAll(full, f.Mode.Perm()); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.Data, f.Mode|0o200); err != nil {
			return err
		}
		if err := os.Chmod(full, f.Mode|0o200); err != nil {
			return err
		}
	}
	return nil
}

// sha256Hex is the lower-case hex SHA-256 of data.
func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// rcSubr renders the simulated host's /etc/rc.subr for release r: enough
// of FreeBSD's rc.subr (load_rc_config, checkyesno, run_rc_command with
// the start, faststart, stop, status, enable and rcvar commands) for rc.d
// scripts of the usual form to run at boot under /bin/sh. load_rc_config
// NAME reads what rcConfFiles lists, in the same order: /etc/rc.conf,
// /etc/rc.conf.local, then /etc/rc.conf.d/NAME and, from 10.x,
// /usr/local/etc/rc.conf.d/NAME (each a file, or from 10.x a directory
// whose files are read in order); a later assignment wins.
func rcSubr(r Release) string {
	dirs := "/etc"
	dirForm := ""
	if r.Has(CapLocalRCConfD) {
		dirs = "/etc /usr/local/etc"
		dirForm = `
			elif [ -d "${_simhost_root}${_d}/rc.conf.d/$_name" ]; then
				for _f in "${_simhost_root}${_d}/rc.conf.d/$_name"/*; do
					[ -f "$_f" ] && . "$_f"
				done`
	}
	return strings.Replace(strings.Replace(rcSubrText, "@RCCONFD_DIRS@", dirs, 1), "@RCCONFD_DIR_FORM@", dirForm, 1)
}

// rcSubrText is rcSubr's template: @RCCONFD_DIRS@ and @RCCONFD_DIR_FORM@
// take the release's rc.conf.d locations.
const rcSubrText = `# simhost /etc/rc.subr: a small subset of FreeBSD's rc.subr.
_simhost_root="${SIMHOST_ROOT:-}"

load_rc_config()
{
	_name=$1
	[ -r "${_simhost_root}/etc/defaults/rc.conf" ] && . "${_simhost_root}/etc/defaults/rc.conf"
	[ -r "${_simhost_root}/etc/rc.conf" ] && . "${_simhost_root}/etc/rc.conf"
	[ -r "${_simhost_root}/etc/rc.conf.local" ] && . "${_simhost_root}/etc/rc.conf.local"
	if [ -n "$_name" ]; then
		for _d in @RCCONFD_DIRS@; do
			if [ -f "${_simhost_root}${_d}/rc.conf.d/$_name" ]; then
				. "${_simhost_root}${_d}/rc.conf.d/$_name"@RCCONFD_DIR_FORM@
			fi
		done
	fi
	return 0
}

checkyesno()
{
	eval _value=\$${1}
	case $_value in
	[Yy][Ee][Ss]|[Tt][Rr][Uu][Ee]|[Oo][Nn]|1) return 0 ;;
	*) return 1 ;;
	esac
}

# run_rc_command follows libexec/rc/rc.subr's run_rc_command: the fast,
# force, one and quiet prefixes; the keywords start stop restart rcvar
# enable disable delete enabled describe extracommands and
# $extra_commands, with status (and poll) when the script names a
# command or procname, or status alone when it sets status_cmd; the
# rcvar check, which status, describe, rcvar, enable and delete skip
# ("Cannot 'start' ..." and exit 0 when the script is off); a method
# (${arg}_cmd) with its precmd and postcmd, a failing precmd or method
# ending the command unless forced; the default methods; and rc_usage
# (exit 1) for a directive outside the keywords. simhost tracks no
# process of a script, so rc_pid is always empty.
run_rc_command()
{
	_return=0
	rc_arg=$1
	shift 1
	rc_extra_args="$*"
	_rc_prefix=
	case "$rc_arg" in
	fast*) rc_arg=${rc_arg#fast}; rc_fast=yes; rc_quiet=yes ;;
	force*) rc_force=yes; _rc_prefix=force; rc_arg=${rc_arg#force}
		[ -n "${rcvar}" ] && eval ${rcvar}=YES ;;
	one*) _rc_prefix=one; rc_arg=${rc_arg#one}
		[ -n "${rcvar}" ] && eval ${rcvar}=YES ;;
	quiet*) _rc_prefix=quiet; rc_arg=${rc_arg#quiet}; rc_quiet=yes ;;
	esac
	_keywords="start stop restart rcvar enable disable delete enabled describe extracommands $extra_commands"
	rc_pid=
	if [ -n "${procname:-$command}" ]; then
		_keywords="${_keywords} status poll"
	elif [ -n "${status_cmd}" ]; then
		_keywords="${_keywords} status"
	fi
	[ -z "$rc_arg" ] && rc_usage $_keywords
	if [ "$rc_arg" = enabled ]; then
		checkyesno ${rcvar}
		return $?
	fi
	for _elem in $_keywords; do
		[ "$_elem" != "$rc_arg" ] && continue
		if { [ -n "${rcvar}" ] && [ "$rc_arg" != rcvar ] && [ "$rc_arg" != stop ] &&
		    [ "$rc_arg" != delete ] && [ "$rc_arg" != enable ] &&
		    [ "$rc_arg" != describe ] && [ "$rc_arg" != status ]; } ||
		    { [ -n "${rcvar}" ] && [ "$rc_arg" = stop ] && [ -z "${rc_pid}" ]; }; then
			if ! checkyesno ${rcvar}; then
				if [ -z "${rc_quiet}" ]; then
					echo "Cannot '${rc_arg}' $name. Set ${rcvar} to YES in /etc/rc.conf or use 'one${rc_arg}' instead of '${rc_arg}'."
				fi
				return 0
			fi
		fi
		eval _cmd=\$${rc_arg}_cmd _precmd=\$${rc_arg}_precmd _postcmd=\$${rc_arg}_postcmd
		if [ -n "$_cmd" ]; then
			_simhost_precmd || return 1
			eval "$_cmd $rc_extra_args"
			_return=$?
			[ $_return -ne 0 ] && [ -z "$rc_force" ] && return 1
			_simhost_postcmd
			return $_return
		fi
		case "$rc_arg" in
		describe) [ -n "$desc" ] && echo "$desc" ;;
		extracommands) echo "$extra_commands" ;;
		status)
			_simhost_precmd || return 1
			echo "${name} is not running."
			return 1
			;;
		start)
			_simhost_precmd || return 1
			[ -z "$rc_quiet" ] && echo "Starting ${name}."
			eval "$command $rc_flags $command_args"
			_return=$?
			[ $_return -ne 0 ] && [ -z "$rc_force" ] && return 1
			_simhost_postcmd
			;;
		stop)
			[ -n "$rc_fast" ] && return 0
			echo 1>&2 "${name} not running?"
			return 1
			;;
		restart)
			( run_rc_command ${_rc_prefix}stop $rc_extra_args )
			( run_rc_command ${_rc_prefix}start $rc_extra_args )
			_return=$?
			[ $_return -ne 0 ] && [ -z "$rc_force" ] && return 1
			;;
		poll) ;;
		rcvar)
			echo "# $name"
			echo "#"
			[ -n "$rcvar" ] && eval echo "$rcvar=\\\"\$$rcvar\\\""
			echo ""
			;;
		*) rc_usage $_keywords ;;
		esac
		return $_return
	done
	echo 1>&2 "$0: unknown directive '$rc_arg'."
	rc_usage $_keywords
}

_simhost_precmd()
{
	if [ -n "$_precmd" ]; then
		eval "$_precmd $rc_extra_args"
		_return=$?
		[ $_return -ne 0 ] && [ -z "$rc_force" ] && return 1
	fi
	return 0
}

_simhost_postcmd()
{
	if [ -n "$_postcmd" ]; then
		eval "$_postcmd $rc_extra_args"
		_return=$?
	fi
	return 0
}

# rc_usage is libexec/rc/rc.subr's: the keywords on stderr, exit 1.
rc_usage()
{
	echo -n 1>&2 "Usage: $0 [fast|force|one|quiet]("
	_sep=
	for _elem; do
		echo -n 1>&2 "$_sep$_elem"
		_sep="|"
	done
	echo 1>&2 ")"
	exit 1
}
`
