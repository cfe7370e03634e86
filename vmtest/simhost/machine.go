// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"
)

// Names of the machine's own files, below ROOT/.simhost.
const (
	stateDirName  = ".simhost"
	modelFileName = "machine.json"
	lockFileName  = "lock"
	binDirName    = "bin"
	storeDirName  = "store"
	binaryName    = "simhost"
)

// Environment variables the simulated commands read.
const (
	// RootEnv names the machine's root directory. Without it, a command
	// finds the machine from the location of its executable: the bin/
	// directory of links is ROOT/.simhost/bin.
	RootEnv = "SIMHOST_ROOT"
	// FaultsEnv holds extra faults as a JSON list (see Fault).
	FaultsEnv = "SIMHOST_FAULTS"
	// KillParentEnv, when "1", makes shutdown and reboot send SIGTERM to
	// the process that called them, as init would on a real host.
	KillParentEnv = "SIMHOST_REBOOT_KILLS_PARENT"
)

// historyLimit bounds the command history kept in the model.
const historyLimit = 1000

// Machine is a simulated host on disk: its root directory holds the files
// of the running boot environment, ROOT/.simhost holds the model, the
// lock, the bin/ links and the store of other boot environments.
type Machine struct {
	// Root is the machine's root directory (its "/").
	Root string
}

// New makes a machine from spec in the directory root (created if
// needed, and empty but for nothing) and installs its bin/ links to
// binary, the simhost executable (see BuildBinary). The machine is
// powered on and running its installed release.
func New(root string, spec Spec, binary string) (*Machine, error) {
	s, err := spec.normalized()
	if err != nil {
		return nil, err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, stateDirName)); err == nil {
		return nil, fmt.Errorf("%s already holds a machine", root)
	}
	model, files, err := buildModel(s)
	if err != nil {
		return nil, err
	}
	m := &Machine{Root: root}
	if err := os.MkdirAll(filepath.Join(root, stateDirName, storeDirName), 0o755); err != nil {
		return nil, err
	}
	if err := writeTree(root, files); err != nil {
		return nil, err
	}
	if _, err := m.boot(model, BootOptions{NoHooks: true}); err != nil {
		return nil, err
	}
	if !model.LastBootOK() {
		return nil, fmt.Errorf("the machine the spec describes does not boot: %s", model.LastBoot.Reason)
	}
	model.History = nil
	if err := m.save(model); err != nil {
		return nil, err
	}
	if binary != "" {
		if err := m.InstallLinks(binary); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Open finds the machine in root.
func Open(root string) (*Machine, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, stateDirName, modelFileName)); err != nil {
		return nil, fmt.Errorf("no simulated machine in %s: %w", root, err)
	}
	return &Machine{Root: root}, nil
}

// FindRoot finds the root of the machine a command belongs to: $SIMHOST_ROOT,
// else the directory three levels above the executable (ROOT/.simhost/bin/simhost).
func FindRoot() (string, error) {
	if r := os.Getenv(RootEnv); r != "" {
		return r, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", err
	}
	bin := filepath.Dir(exe)
	if filepath.Base(bin) == binDirName && filepath.Base(filepath.Dir(bin)) == stateDirName {
		return filepath.Dir(filepath.Dir(bin)), nil
	}
	return "", fmt.Errorf("cannot tell which machine this is: set %s, or run the command through a machine's bin/ links", RootEnv)
}

func (m *Machine) stateDir() string  { return filepath.Join(m.Root, stateDirName) }
func (m *Machine) modelPath() string { return filepath.Join(m.stateDir(), modelFileName) }
func (m *Machine) storeDir() string  { return filepath.Join(m.stateDir(), storeDirName) }

// BinDir is the directory of the simhost binary and of the link
// directories: BinDir()/sbin stands for the machine's /sbin, and so on.
func (m *Machine) BinDir() string { return filepath.Join(m.stateDir(), binDirName) }

// The PATHs a FreeBSD host gives its processes, and the directories the
// links stand for.
const (
	// rcPATH is what /etc/rc sets and exports before it runs the rc.d
	// scripts (libexec/rc/rc: PATH=/sbin:/bin:/usr/sbin:/usr/bin); rc.subr
	// and daemon(8) keep it, and service(8) runs a script with it too
	// (usr.sbin/service/service.sh: env -i HOME=/ PATH=...).
	rcPATH = "/sbin:/bin:/usr/sbin:/usr/bin"
	// loginPATH is the PATH of root's login shell (bin/sh/dot.profile,
	// installed as /root/.profile; its ~/bin is left out).
	loginPATH = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
)

// linkDirs are the directories of the machine that hold programs, each
// with a directory of links below BinDir.
var linkDirs = []string{"/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}

// LinkPath is the link that stands for the program at path p of the
// machine (/sbin/zpool: BinDir()/sbin/zpool). Only simulated commands have
// one.
func (m *Machine) LinkPath(p string) string {
	return filepath.Join(m.BinDir(), filepath.Clean("/"+p))
}

// MapPATH maps a FreeBSD PATH (/sbin:/bin) to the machine's link
// directories, so that a bare name resolves only where it would on
// FreeBSD.
func (m *Machine) MapPATH(path string) string {
	dirs := filepath.SplitList(path)
	for i, d := range dirs {
		dirs[i] = m.LinkPath(d)
	}
	return strings.Join(dirs, string(filepath.ListSeparator))
}

// Env is the environment of an interactive root shell on the machine:
// PATH is root's login PATH (/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:
// /usr/local/bin) mapped to the link directories, and SIMHOST_ROOT names
// the machine.
func (m *Machine) Env() []string {
	return []string{"PATH=" + m.MapPATH(loginPATH), RootEnv + "=" + m.Root}
}

// rcEnv is the environment of the rc.d scripts: rc's PATH, mapped, and
// SIMHOST_ROOT. /usr/local/sbin and /usr/local/bin are not in it.
func (m *Machine) rcEnv() []string {
	return []string{"PATH=" + m.MapPATH(rcPATH), RootEnv + "=" + m.Root}
}

// lock takes the machine's exclusive lock.
func (m *Machine) lock() (*flock.Flock, error) {
	l := flock.New(filepath.Join(m.stateDir(), lockFileName))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("lock machine: %w", err)
	}
	return l, nil
}

// load reads the model; the caller holds the lock.
func (m *Machine) load() (*Model, error) {
	data, err := os.ReadFile(m.modelPath())
	if err != nil {
		return nil, err
	}
	var model Model
	if err := json.Unmarshal(data, &model); err != nil {
		return nil, fmt.Errorf("machine model %s: %w", m.modelPath(), err)
	}
	if model.Format != ModelFormat {
		return nil, fmt.Errorf("machine model %s has format %d, want %d", m.modelPath(), model.Format, ModelFormat)
	}
	return &model, nil
}

// save writes the model atomically (temporary file, fsync, rename), then
// kills the processes of a running system that ended.
func (m *Machine) save(model *Model) error {
	if len(model.History) > historyLimit {
		model.History = model.History[len(model.History)-historyLimit:]
	}
	data, err := json.MarshalIndent(model, "", "  ")
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(m.modelPath(), append(data, '\n'), 0o644); err != nil {
		return err
	}
	if model.saved != nil {
		model.saved()
	}
	m.killDoomed(model)
	return nil
}

// Model returns a copy of the current model.
func (m *Machine) Model() (*Model, error) {
	l, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	return m.load()
}

// Update changes the model under the lock and saves it when fn succeeds.
func (m *Machine) Update(fn func(*Model) error) error {
	l, err := m.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	model, err := m.load()
	if err != nil {
		return err
	}
	if err := fn(model); err != nil {
		return err
	}
	return m.save(model)
}

// CommandNames lists every command the simulated host answers to.
func CommandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// InstallLinks puts a copy (or hard link) of binary into the bin/
// directory and, for every command, a symbolic link to it at the place of
// its program on FreeBSD (BinDir()/sbin/zpool for /sbin/zpool), and links
// BinDir()/bin/sh to this machine's /bin/sh.
func (m *Machine) InstallLinks(binary string) error {
	bin := m.BinDir()
	for _, d := range linkDirs {
		if err := os.MkdirAll(m.LinkPath(d), 0o755); err != nil {
			return err
		}
	}
	target := filepath.Join(bin, binaryName)
	os.Remove(target)
	if err := os.Link(binary, target); err != nil {
		if err := copyFile(binary, target, 0o755); err != nil {
			return fmt.Errorf("install %s: %w", binary, err)
		}
	}
	for _, name := range CommandNames() {
		paths := commandPaths(name)
		if len(paths) == 0 {
			return fmt.Errorf("command %s has no program path: add it to basePrograms or programOf", name)
		}
		for _, p := range paths {
			link := m.LinkPath(p)
			rel, err := filepath.Rel(filepath.Dir(link), target)
			if err != nil {
				return err
			}
			os.Remove(link)
			if err := os.Symlink(rel, link); err != nil {
				return err
			}
		}
	}
	// The shell of this machine stands in for the machine's /bin/sh, as
	// it runs the rc.d scripts.
	sh := m.LinkPath("/bin/sh")
	os.Remove(sh)
	return os.Symlink("/bin/sh", sh)
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// HostPath maps a path of the machine (/boot/loader.efi) to the real
// file under the root directory. A path already inside the root
// directory is returned unchanged, so tools may pass either form.
func (m *Machine) HostPath(p string) string {
	if p == m.Root || strings.HasPrefix(p, m.Root+"/") {
		return p
	}
	return filepath.Join(m.Root, filepath.Clean("/"+p))
}

// machinePath maps a real path under the root back to the machine's view;
// ok is false for paths outside the root.
func (m *Machine) machinePath(real string) (string, bool) {
	if real == m.Root {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(real, m.Root+"/"); ok {
		return "/" + rest, true
	}
	return "", false
}
