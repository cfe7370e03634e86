// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// cmdLs is ls(1) with -1, -a, -A, -d.
func cmdLs(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "1aAdF")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if has(opts, 'F') {
		return inv.unsupported("option -F")
	}
	if len(args) == 0 {
		cwd, _ := os.Getwd()
		args = []string{cwd}
	}
	all := has(opts, 'a') || has(opts, 'A')
	status := 0
	var files, dirs []string
	for _, a := range args {
		v := inv.resolve(a)
		exists, dir := inv.stat(v)
		if !exists {
			inv.errf("ls: %s: No such file or directory\n", a)
			status = 1
			continue
		}
		if dir && !has(opts, 'd') {
			dirs = append(dirs, a)
		} else {
			files = append(files, a)
		}
	}
	for _, f := range files {
		inv.out("%s\n", f)
	}
	for i, d := range dirs {
		if len(args) > 1 {
			if i > 0 || len(files) > 0 {
				inv.out("\n")
			}
			inv.out("%s:\n", d)
		}
		names, err := inv.listDir(inv.resolve(d))
		if err != nil {
			inv.errf("ls: %s: %v\n", d, err)
			status = 1
			continue
		}
		if has(opts, 'a') {
			inv.out(".\n..\n")
		}
		for _, n := range names {
			if !all && strings.HasPrefix(n, ".") {
				continue
			}
			inv.out("%s\n", n)
		}
	}
	return status
}

// cmdCat is cat(1) without options.
func cmdCat(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "")
	if err != nil || len(opts) > 0 {
		return inv.unsupported("cat with options")
	}
	if len(args) == 0 {
		io.Copy(inv.Stdout, inv.Stdin)
		return 0
	}
	status := 0
	for _, a := range args {
		data, err := inv.readFile(inv.resolve(a))
		if err != nil {
			inv.errf("cat: %s: %v\n", a, err)
			status = 1
			continue
		}
		inv.Stdout.Write(data)
	}
	return status
}

// cmdGrep is grep(1) with -n -F -E -e -q -v -i -c -s -H -h.
func cmdGrep(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "nFEe:qvicsHhl")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	var patterns []string
	for _, o := range opts {
		if o.flag == 'e' {
			patterns = append(patterns, o.val)
		}
	}
	if len(patterns) == 0 {
		if len(args) == 0 {
			inv.errf("usage: grep [-abcdDEFGHhIiLlmnOopqRSsUVvwxz] [-A num] [-B num] [-C[num]]\n")
			return 2
		}
		patterns = strings.Split(args[0], "\n")
		args = args[1:]
	}
	var res []*regexp.Regexp
	for _, p := range patterns {
		var expr string
		switch {
		case has(opts, 'F'):
			expr = regexp.QuoteMeta(p)
		case has(opts, 'E'):
			expr = p
		default:
			expr = breToRE2(p)
		}
		if has(opts, 'i') {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			inv.errf("grep: %v\n", err)
			return 2
		}
		res = append(res, re)
	}
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	status := 1
	errored := false
	if len(args) == 0 {
		data, _ := io.ReadAll(inv.Stdin)
		inputs = append(inputs, input{"(standard input)", data})
	}
	for _, a := range args {
		data, err := inv.readFile(inv.resolve(a))
		if err != nil {
			if !has(opts, 's') {
				inv.errf("grep: %s: %v\n", a, err)
			}
			errored = true
			continue
		}
		inputs = append(inputs, input{a, data})
	}
	prefix := (len(args) > 1 || has(opts, 'H')) && !has(opts, 'h')
	for _, in := range inputs {
		count := 0
		lines := strings.Split(string(in.data), "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		for i, line := range lines {
			hit := false
			for _, re := range res {
				if re.MatchString(line) {
					hit = true
					break
				}
			}
			if hit == has(opts, 'v') {
				continue
			}
			count++
			status = 0
			if has(opts, 'q') || has(opts, 'c') || has(opts, 'l') {
				continue
			}
			var b strings.Builder
			if prefix {
				b.WriteString(in.name + ":")
			}
			if has(opts, 'n') {
				fmt.Fprintf(&b, "%d:", i+1)
			}
			b.WriteString(line)
			inv.out("%s\n", b.String())
		}
		if has(opts, 'c') {
			if prefix {
				inv.out("%s:", in.name)
			}
			inv.out("%d\n", count)
		}
		if has(opts, 'l') && count > 0 {
			inv.out("%s\n", in.name)
		}
	}
	if has(opts, 'q') && status == 0 {
		return 0
	}
	if errored {
		return 2
	}
	return status
}

// breToRE2 turns a POSIX basic regular expression into Go syntax.
func breToRE2(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			i++
			switch n {
			case '(', ')', '{', '}', '|':
				b.WriteByte(n)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case strings.IndexByte("+?(){}|", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// cmdFile is file(1); with -s it describes device contents from the model.
func cmdFile(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "sbL")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) == 0 {
		inv.errf("Usage: file [-bcCdEhikLlNnprsSvzZ0] [--apple] [--extension] [--mime-encoding]\n")
		return 1
	}
	for _, a := range args {
		v := inv.resolve(a)
		var desc string
		switch {
		case v.dev && v.disk == nil:
			desc = fmt.Sprintf("cannot open `%s' (No such file or directory)", a)
		case v.dev && !has(opts, 's'):
			desc = "character special (0/90)"
		case v.dev && v.part == nil:
			desc = "DOS/MBR boot sector; partition 1 : ID=0xee, start-CHS (0x0,0,2), end-CHS (0x3ff,255,63), startsector 1, " + fmt.Sprint(v.disk.Sectors-1) + " sectors, extended partition table (last)"
		case v.dev:
			desc = describePartition(v.part)
		default:
			data, err := inv.readFile(v)
			exists, dir := inv.stat(v)
			switch {
			case dir:
				desc = "directory"
			case !exists || err != nil:
				desc = fmt.Sprintf("cannot open `%s' (No such file or directory)", a)
			case len(data) == 0:
				desc = "empty"
			case validPE(data):
				desc = "PE32+ executable (EFI application) x86-64, for MS Windows"
			case bytes.IndexByte(bytes.TrimRight(data, "\x00"), 0) >= 0 || !isText(data):
				desc = "data"
			case bytes.HasPrefix(data, []byte("#!/bin/sh")):
				desc = "POSIX shell script, ASCII text executable"
			default:
				desc = "ASCII text"
			}
		}
		if has(opts, 'b') {
			inv.out("%s\n", desc)
		} else {
			inv.out("%s: %s\n", a, desc)
		}
	}
	return 0
}

func isText(data []byte) bool {
	for _, c := range bytes.TrimRight(data, "\x00") {
		if c < 0x09 || (c > 0x0d && c < 0x20) || c > 0x7e {
			return false
		}
	}
	return true
}

// describePartition is what file -s says about a partition's content.
func describePartition(p *Partition) string {
	if p.FAT != nil {
		if p.FAT.Bits == 12 {
			return fmt.Sprintf("DOS/MBR boot sector, code offset 0x3c+2, OEM-ID \"BSD  4.4\", root entries 512, sectors %d (volumes <=32 MB), Media descriptor 0xf8, sectors/FAT 3, sectors/track 63, heads 16, serial number 0x%x, label: \"%-11s\", FAT (12 bit)", p.Size, p.FAT.Serial, p.FAT.Label)
		}
		return fmt.Sprintf("DOS/MBR boot sector, code offset 0x58+2, OEM-ID \"BSD4.4  \", sectors/cluster 1, reserved sectors 32, Media descriptor 0xf8, sectors/track 63, heads 16, hidden sectors %d, sectors %d (volumes > 32 MB), FAT (32 bit), sectors/FAT %d, serial number 0x%x, label: \"%-11s\"", p.Start, p.Size, p.Size/128+1, p.FAT.Serial, p.FAT.Label)
	}
	if len(bytes.TrimRight(p.Data, "\x00")) == 0 {
		return "data"
	}
	if b, ok := parseBlob(p.Data); ok && (b.Kind == BlobGPTZFSBoot || b.Kind == BlobPMBR) {
		return "DOS executable (COM), boot code"
	}
	return "data"
}

// cmdSha256 is sha256(1) with -r and -q.
func cmdSha256(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "rqs:")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if s, ok := value(opts, 's'); ok {
		sum := sha256Hex([]byte(s))
		switch {
		case has(opts, 'q'):
			inv.out("%s\n", sum)
		case has(opts, 'r'):
			inv.out("%s \"%s\"\n", sum, s)
		default:
			inv.out("SHA256 (\"%s\") = %s\n", s, sum)
		}
		return 0
	}
	if len(args) == 0 {
		data, _ := io.ReadAll(inv.Stdin)
		inv.out("%s\n", sha256Hex(data))
		return 0
	}
	status := 0
	for _, a := range args {
		v := inv.resolve(a)
		if v.dev {
			return inv.unsupported("hashing a device node")
		}
		data, err := inv.readFile(v)
		if err != nil {
			inv.errf("sha256: %s: %v\n", a, err)
			status = 1
			continue
		}
		sum := sha256Hex(data)
		switch {
		case has(opts, 'q'):
			inv.out("%s\n", sum)
		case has(opts, 'r'):
			inv.out("%s %s\n", sum, a)
		default:
			inv.out("SHA256 (%s) = %s\n", a, sum)
		}
	}
	return status
}

// copyInto copies one file to a destination path (or into a directory).
func (inv *Invocation) copyInto(src, dst string, mode fs.FileMode, keepMode bool) error {
	sv := inv.resolve(src)
	data, err := inv.readFile(sv)
	if err != nil {
		return fmt.Errorf("%s: %v", src, err)
	}
	dv := inv.resolve(dst)
	if _, dir := inv.stat(dv); dir {
		dv = inv.resolve(path.Join(dst, path.Base(src)))
		dst = path.Join(dst, path.Base(src))
	}
	if keepMode {
		mode = inv.fileMode(sv)
	}
	if err := inv.writeFile(dv, data, mode); err != nil {
		return fmt.Errorf("%s: %v", dst, err)
	}
	return nil
}

// cmdCp is cp(1) for files, with -p and -f.
func cmdCp(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "pfv")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) < 2 {
		inv.errf("usage: cp [-R [-H | -L | -P]] [-f | -i | -n] [-alpsvx] source_file target_file\n")
		return 64
	}
	dst := args[len(args)-1]
	if len(args) > 2 {
		if _, dir := inv.stat(inv.resolve(dst)); !dir {
			inv.errf("cp: %s is not a directory\n", dst)
			return 1
		}
	}
	status := 0
	for _, src := range args[:len(args)-1] {
		if _, dir := inv.stat(inv.resolve(src)); dir {
			inv.errf("cp: %s is a directory (not copied).\n", src)
			status = 1
			continue
		}
		if err := inv.copyInto(src, dst, 0o644, true); err != nil {
			inv.errf("cp: %v\n", err)
			status = 1
		} else if has(opts, 'v') {
			inv.out("%s -> %s\n", src, dst)
		}
	}
	return status
}

// cmdMv is mv(1) for files.
func cmdMv(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "fv")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) != 2 {
		if len(args) < 2 {
			inv.errf("usage: mv [-f | -i | -n] [-hv] source target\n")
			return 64
		}
		return inv.unsupported("moving several files")
	}
	src, dst := args[0], args[1]
	sv, dv := inv.resolve(src), inv.resolve(dst)
	if exists, _ := inv.stat(sv); !exists {
		inv.errf("mv: rename %s to %s: No such file or directory\n", src, dst)
		return 1
	}
	if _, dir := inv.stat(dv); dir {
		dst = path.Join(dst, path.Base(src))
		dv = inv.resolve(dst)
	}
	switch {
	case sv.isFAT() && dv.isFAT() && sv.fat == dv.fat:
		if !dv.fat.parentExists(dv.fatPath) {
			inv.errf("mv: rename %s to %s: No such file or directory\n", src, dst)
			return 1
		}
		if r := sv.realFATPath(); r != "" {
			if err := os.Rename(r, dv.realFATPath()); err != nil {
				inv.errf("mv: rename %s to %s: %v\n", src, dst, sysErr(err))
				return 1
			}
		}
		sv.fat.rename(sv.fatPath, dv.fatPath)
	case sv.real != "" && dv.real != "":
		if err := os.Rename(sv.real, dv.real); err != nil {
			inv.errf("mv: rename %s to %s: %v\n", src, dst, sysErr(err))
			return 1
		}
	default:
		if _, dir := inv.stat(sv); dir {
			return inv.unsupported("moving a directory across file systems")
		}
		if err := inv.copyInto(src, dst, 0o644, true); err != nil {
			inv.errf("mv: %v\n", err)
			return 1
		}
		if err := inv.removeFile(sv); err != nil {
			inv.errf("mv: %s: %v\n", src, err)
			return 1
		}
	}
	if has(opts, 'v') {
		inv.out("%s -> %s\n", src, dst)
	}
	return 0
}

// cmdRm is rm(1) for files, with -f.
func cmdRm(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "f")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	status := 0
	for _, a := range args {
		v := inv.resolve(a)
		exists, dir := inv.stat(v)
		switch {
		case !exists:
			if !has(opts, 'f') {
				inv.errf("rm: %s: No such file or directory\n", a)
				status = 1
			}
		case dir:
			inv.errf("rm: %s: is a directory\n", a)
			status = 1
		default:
			if err := inv.removeFile(v); err != nil {
				inv.errf("rm: %s: %v\n", a, err)
				status = 1
			}
		}
	}
	return status
}

// cmdMkdir is mkdir(1) with -p.
func cmdMkdir(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "pm:v")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) == 0 {
		inv.errf("usage: mkdir [-pv] [-m mode] directory_name ...\n")
		return 64
	}
	status := 0
	for _, a := range args {
		if err := inv.mkdirs(a, has(opts, 'p')); err != nil {
			inv.errf("mkdir: %s: %v\n", a, err)
			status = 1
		}
	}
	return status
}

// mkdirs creates a directory, and with parents its missing parents.
func (inv *Invocation) mkdirs(p string, parents bool) error {
	v := inv.resolve(p)
	exists, dir := inv.stat(v)
	if exists {
		if parents && dir {
			return nil
		}
		return fs.ErrExist
	}
	if parents {
		parent := path.Dir(v.mpath)
		if parent != v.mpath {
			if err := inv.mkdirs(parent, true); err != nil {
				return err
			}
		}
	}
	return sysErr(inv.mkdirOne(inv.resolve(v.mpath)))
}

// cmdInstall is install(1) copying one file with -m (and -o, -g, -S, -C, -p accepted).
func cmdInstall(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "m:o:g:SCpdv")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	mode := fs.FileMode(0o755)
	if m, ok := value(opts, 'm'); ok {
		n, err := strconv.ParseUint(m, 8, 32)
		if err != nil {
			return inv.unsupported("symbolic mode " + m)
		}
		mode = fs.FileMode(n)
	}
	if has(opts, 'd') {
		for _, a := range args {
			if err := inv.mkdirs(a, true); err != nil {
				inv.errf("install: %s: %v\n", a, err)
				return 71
			}
		}
		return 0
	}
	if len(args) != 2 {
		inv.errf("usage: install [-bCcpSsUv] [-f flags] [-g group] [-m mode] [-o owner] file1 file2\n")
		return 64
	}
	if err := inv.copyInto(args[0], args[1], mode, false); err != nil {
		inv.errf("install: %v\n", err)
		return 71
	}
	return 0
}

// cmdSync is sync(8): flush every file system, including FAT.
func cmdSync(inv *Invocation) int {
	if len(inv.Args) > 0 {
		return inv.unsupported("arguments")
	}
	inv.model.syncAll()
	if inv.m.realDisks() != "" {
		if err := runReal("sync"); err != nil {
			inv.errf("sync: %v\n", err)
			return 1
		}
	}
	return 0
}

// cmdSed is sed(1) with -i EXT, -e and -E, for s/// commands.
func cmdSed(inv *Invocation) int {
	var scripts []string
	inPlace, haveInPlace, ere := "", false, false
	args := inv.Args
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-i":
			if i+1 >= len(args) {
				return inv.unsupported("-i without an extension argument")
			}
			inPlace, haveInPlace = args[i+1], true
			i++
		case strings.HasPrefix(a, "-i"):
			inPlace, haveInPlace = a[2:], true
		case a == "-e":
			if i+1 >= len(args) {
				inv.errf("sed: option requires an argument -- e\n")
				return 1
			}
			scripts = append(scripts, args[i+1])
			i++
		case strings.HasPrefix(a, "-e"):
			scripts = append(scripts, a[2:])
		case a == "-E":
			ere = true
		case a == "--":
			i++
			goto operands
		case strings.HasPrefix(a, "-") && len(a) > 1:
			return inv.unsupported("option " + a)
		default:
			goto operands
		}
	}
operands:
	files := args[i:]
	if len(scripts) == 0 {
		if len(files) == 0 {
			inv.errf("usage: sed script [-Ealnru] [-i extension] [file ...]\n")
			return 1
		}
		scripts, files = []string{files[0]}, files[1:]
	}
	var subs []sedSub
	for _, s := range scripts {
		sub, err := parseSedSub(s, ere)
		if err != nil {
			inv.errf("sed: 1: \"%s\": %v\n", s, err)
			return 1
		}
		subs = append(subs, sub)
	}
	if !haveInPlace {
		var data []byte
		if len(files) == 0 {
			data, _ = io.ReadAll(inv.Stdin)
		}
		for _, f := range files {
			d, err := inv.readFile(inv.resolve(f))
			if err != nil {
				inv.errf("sed: %s: %v\n", f, err)
				return 1
			}
			data = append(data, d...)
		}
		inv.Stdout.Write(applySed(data, subs))
		return 0
	}
	if inPlace != "" {
		return inv.unsupported("-i with a backup extension")
	}
	for _, f := range files {
		v := inv.resolve(f)
		data, err := inv.readFile(v)
		if err != nil {
			inv.errf("sed: %s: %v\n", f, err)
			return 1
		}
		if err := inv.writeFile(v, applySed(data, subs), inv.fileMode(v)); err != nil {
			inv.errf("sed: %s: %v\n", f, err)
			return 1
		}
	}
	return 0
}

// sedSub is one s/RE/REPL/FLAGS command.
type sedSub struct {
	re     *regexp.Regexp
	repl   string
	global bool
}

func parseSedSub(s string, ere bool) (sedSub, error) {
	if len(s) < 2 || s[0] != 's' {
		return sedSub{}, fmt.Errorf("only s/// commands are simulated")
	}
	delim := s[1]
	var parts []string
	var cur strings.Builder
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == delim {
			cur.WriteByte(delim)
			i++
			continue
		}
		if c == delim {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	parts = append(parts, cur.String())
	if len(parts) != 3 {
		return sedSub{}, fmt.Errorf("unterminated substitute pattern")
	}
	expr := parts[0]
	if !ere {
		expr = breToRE2(expr)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return sedSub{}, err
	}
	var repl strings.Builder
	for i := 0; i < len(parts[1]); i++ {
		c := parts[1][i]
		switch {
		case c == '&':
			repl.WriteString("${0}")
		case c == '\\' && i+1 < len(parts[1]):
			n := parts[1][i+1]
			i++
			if n >= '0' && n <= '9' {
				repl.WriteString("${" + string(n) + "}")
			} else {
				repl.WriteByte(n)
			}
		case c == '$':
			repl.WriteString("$$")
		default:
			repl.WriteByte(c)
		}
	}
	switch parts[2] {
	case "":
		return sedSub{re: re, repl: repl.String()}, nil
	case "g":
		return sedSub{re: re, repl: repl.String(), global: true}, nil
	}
	return sedSub{}, fmt.Errorf("flags %q are not simulated", parts[2])
}

// applySed runs the substitutions on every line.
func applySed(data []byte, subs []sedSub) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		for _, s := range subs {
			if s.global {
				line = s.re.ReplaceAllString(line, s.repl)
				continue
			}
			if loc := s.re.FindStringSubmatchIndex(line); loc != nil {
				var dst []byte
				dst = s.re.ExpandString(dst, s.repl, line, loc)
				line = line[:loc[0]] + string(dst) + line[loc[1]:]
			}
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// cmdDate is date(1) printing the machine's clock (no options but +FORMAT with %Y%m%d%H%M%S and -u).
func cmdDate(inv *Invocation) int {
	t := inv.model.Clock.UTC()
	for _, a := range inv.Args {
		switch {
		case a == "-u":
		case strings.HasPrefix(a, "+"):
			r := strings.NewReplacer("%Y", t.Format("2006"), "%m", t.Format("01"), "%d", t.Format("02"), "%H", t.Format("15"), "%M", t.Format("04"), "%S", t.Format("05"), "%s", strconv.FormatInt(t.Unix(), 10), "%%", "%")
			inv.out("%s\n", r.Replace(a[1:]))
			return 0
		default:
			return inv.unsupported("argument " + a)
		}
	}
	inv.out("%s\n", t.Format("Mon Jan _2 15:04:05 MST 2006"))
	return 0
}

// cmdLogger is logger(1): it appends to /var/log/messages.
func cmdLogger(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "t:p:s")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	tag, ok := value(opts, 't')
	if !ok {
		tag = "root"
	}
	msg := strings.Join(args, " ")
	if len(args) == 0 {
		data, _ := io.ReadAll(inv.Stdin)
		msg = strings.TrimRight(string(data), "\n")
	}
	if has(opts, 's') {
		inv.errf("%s: %s\n", tag, msg)
	}
	f, err := os.OpenFile(inv.m.HostPath("/var/log/messages"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		inv.errf("logger: %v\n", sysErr(err))
		return 1
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s %s: %s\n", inv.model.Clock.Format("Jan _2 15:04:05"), inv.model.Hostname, tag, msg)
	return 0
}

// cmdDd is dd(1) reading from a disk or partition device, for read-back
// checks of boot code: if=DEV [of=FILE] [bs=N] [count=N] [skip=N].
func cmdDd(inv *Invocation) int {
	var in, out string
	bs, count, skip := int64(512), int64(-1), int64(0)
	for _, a := range inv.Args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return inv.unsupported("operand " + a)
		}
		n, err := parseDdNumber(v)
		switch k {
		case "if":
			in = v
		case "of":
			out = v
		case "bs", "count", "skip":
			if err != nil {
				inv.errf("dd: %s: illegal numeric value\n", k)
				return 1
			}
			switch k {
			case "bs":
				bs = n
			case "count":
				count = n
			case "skip":
				skip = n
			}
		case "status":
		default:
			return inv.unsupported("operand " + k)
		}
	}
	if in == "" {
		return inv.unsupported("reading standard input")
	}
	v := inv.resolve(in)
	var data []byte
	var size int64
	switch {
	case v.dev && v.disk == nil:
		inv.errf("dd: %s: No such file or directory\n", in)
		return 1
	case v.dev && v.part == nil:
		data = v.disk.sector0()
		size = v.disk.Sectors * 512
	case v.dev:
		data = v.part.Data
		size = v.part.Size * 512
	default:
		d, err := inv.readFile(v)
		if err != nil {
			inv.errf("dd: %s: %v\n", in, err)
			return 1
		}
		data, size = d, int64(len(d))
	}
	start := skip * bs
	n := size - start
	if count >= 0 && count*bs < n {
		n = count * bs
	}
	if n < 0 {
		n = 0
	}
	if n > 64<<20 {
		return inv.unsupported("reading more than 64 MiB")
	}
	buf := make([]byte, n)
	if start < int64(len(data)) {
		copy(buf, data[start:])
	}
	if out == "" {
		inv.Stdout.Write(buf)
	} else if err := inv.writeFile(inv.resolve(out), buf, 0o644); err != nil {
		inv.errf("dd: %s: %v\n", out, err)
		return 1
	}
	inv.errf("%d+0 records in\n%d+0 records out\n%d bytes transferred in 0.000100 secs (%d bytes/sec)\n", n/bs, n/bs, n, n*10000)
	return 0
}

// sector0 is sector 0 of the disk as gpart leaves a GPT disk: the boot
// code (the first 446 bytes of pmbr that gpart bootcode -b wrote, zeros
// when there is none), then the protective MBR: one partition entry of
// type 0xee from LBA 1 to the end of the disk (at most 2^32-1 sectors),
// the other three empty, and the 0x55 0xaa signature. Sectors after it
// (the GPT header and entries) read as zeros.
func (d *Disk) sector0() []byte {
	b := make([]byte, 512)
	copy(b[:446], d.BootArea)
	e := b[446:462]
	e[2] = 2 // CHS of LBA 1: head 0, sector 2, cylinder 0
	e[4] = 0xee
	e[5], e[6], e[7] = 0xff, 0xff, 0xff
	binary.LittleEndian.PutUint32(e[8:], 1)
	binary.LittleEndian.PutUint32(e[12:], uint32(min(d.Sectors-1, math.MaxUint32)))
	b[510], b[511] = 0x55, 0xaa
	return b
}

func parseDdNumber(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1024, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimSuffix(s, "m")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// cmdID is id(1): the simulated host runs everything as root.
func cmdID(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "ugnG")
	if err != nil || len(args) > 0 {
		return inv.unsupported("id with these arguments")
	}
	name := has(opts, 'n')
	switch {
	case has(opts, 'u') && name:
		inv.out("root\n")
	case has(opts, 'u'):
		inv.out("0\n")
	case has(opts, 'g') && name:
		inv.out("wheel\n")
	case has(opts, 'g'):
		inv.out("0\n")
	case has(opts, 'G'):
		inv.out("0 5\n")
	default:
		inv.out("uid=0(root) gid=0(wheel) groups=0(wheel),5(operator)\n")
	}
	return 0
}
