// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/freebsdupdate"
	"github.com/zupgrade/zupgrade/gpart"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/pkgng"
	"github.com/zupgrade/zupgrade/zpool"
)

// Op is one operation a step performs on the host, with the typed values
// it acts on (a disk, a partition index, an ESP, a pool, a name). The set
// is sealed: only the types of this file are operations. Each renders
// the exact command it runs (Command), which is what plan shows and what
// the engine runs; nothing ever reads an argv back to learn what an
// operation is.
type Op interface {
	// Kind names the operation in the plan's JSON.
	Kind() string
	// Command is the command the operation runs: argv and environment.
	Command() host.Command
	// check reports whether the operation's values make a valid command;
	// it is called when the operation is planned and when a saved plan
	// or journal is read back.
	check() error
}

// The operations. Paths are absolute; ESP names are the partition's name
// (ada0p1); MountPoint is where the step has the ESP mounted.
type (
	// MakeDir makes a directory and its parents (mkdir -p).
	MakeDir struct {
		Path string `json:"path"`
	}
	// FixMetadataPath is one half of the fix of freebsd-update's 8.x
	// metadata path check: Edit false keeps a copy of the script at
	// Backup, Edit true edits the script in place.
	FixMetadataPath struct {
		Backup string `json:"backup"`
		Edit   bool   `json:"edit,omitempty"`
	}
	// CreateBootEnv makes the backup boot environment Name (bectl).
	CreateBootEnv struct {
		Name string `json:"name"`
	}
	// DestroyBootEnv destroys the boot environment Name (bectl destroy),
	// when finalize prunes old ones.
	DestroyBootEnv struct {
		Name string `json:"name"`
	}
	// Snapshot makes the recursive backup snapshot Dataset@Name where
	// there are no boot environments.
	Snapshot struct {
		Dataset string `json:"dataset"`
		Name    string `json:"name"`
	}
	// FreebsdUpdate runs one phase of freebsd-update: "upgrade" (to
	// Release), "fetch" or "install". NoCron: the script predates
	// --not-running-from-cron.
	FreebsdUpdate struct {
		Phase   string `json:"phase"`
		Release string `json:"release,omitempty"`
		NoCron  bool   `json:"no_cron_option,omitempty"`
		// BaseDir, when set, is the mounted boot environment the phase
		// works on (-b, -d inside it), CurrentlyRunning the release
		// installed there (--currently-running): a staged upgrade.
		BaseDir          string `json:"base_dir,omitempty"`
		CurrentlyRunning string `json:"currently_running,omitempty"`
	}
	// WriteBootcode writes the protective MBR to Disk and gptzfsboot to
	// its freebsd-boot partition Partition (index Index).
	WriteBootcode struct {
		Disk      string `json:"disk"`
		Scheme    string `json:"scheme"`
		Partition string `json:"partition"`
		Index     int    `json:"index"`
		// BootDir is where pmbr and gptzfsboot are read ("" for /boot).
		BootDir string `json:"boot_dir,omitempty"`
	}
	// FormatESP makes a FAT32 file system on the ESP, as bsdinstall does.
	FormatESP struct {
		Disk string `json:"disk"`
		ESP  string `json:"esp"`
	}
	// MountESP mounts the ESP on MountPoint.
	MountESP struct {
		Disk       string `json:"disk"`
		ESP        string `json:"esp"`
		MountPoint string `json:"mount_point"`
	}
	// UnmountESP unmounts the ESP the step mounted on MountPoint.
	UnmountESP struct {
		Disk       string `json:"disk"`
		ESP        string `json:"esp"`
		MountPoint string `json:"mount_point"`
	}
	// StageLoader copies the EFI program Source beside its place on the
	// mounted ESP (Path, relative to the ESP's root, with .new).
	StageLoader struct {
		Disk       string `json:"disk"`
		ESP        string `json:"esp"`
		MountPoint string `json:"mount_point"`
		Source     string `json:"source"`
		Path       string `json:"path"`
	}
	// PlaceLoader renames the staged copy over Path on the mounted ESP.
	PlaceLoader struct {
		Disk       string `json:"disk"`
		ESP        string `json:"esp"`
		MountPoint string `json:"mount_point"`
		Path       string `json:"path"`
	}
	// CreateBootEntry adds an active firmware boot entry for FreeBSD's
	// loader on the ESP of Disk mounted on MountPoint.
	CreateBootEntry struct {
		Disk       string `json:"disk"`
		ESP        string `json:"esp"`
		MountPoint string `json:"mount_point"`
	}
	// SetBootOrder sets the firmware's BootOrder.
	SetBootOrder struct {
		Order []string `json:"order"`
	}
	// Sync flushes the file systems' buffers (after writing to an ESP).
	Sync struct{}
	// Packages runs pkg or portmaster: Action "bootstrap" (pkg itself),
	// "upgrade" (every package), "portmaster" (from ports), "compat"
	// (misc/compatNNx of FreeBSD Major).
	Packages struct {
		Action string `json:"action"`
		Major  int    `json:"major,omitempty"`
		// Chroot, for "upgrade", is the mounted boot environment whose
		// packages are upgraded (pkg -c).
		Chroot string `json:"chroot,omitempty"`
	}
	// UpgradePool enables every feature the new system offers on Pool.
	UpgradePool struct {
		Pool string `json:"pool"`
	}
	// EnableFeature enables one feature on Pool.
	EnableFeature struct {
		Pool    string `json:"pool"`
		Feature string `json:"feature"`
	}
	// UpgradeFilesystems moves Dataset and the file systems below it to
	// the current file system version.
	UpgradeFilesystems struct {
		Dataset string `json:"dataset"`
	}
	// InstallFile copies Source to Target with Mode (install -m).
	InstallFile struct {
		Source string `json:"source"`
		Target string `json:"target"`
		Mode   string `json:"mode"`
	}
	// Sysrc sets the rc.conf variables Vars in File (rc.conf when
	// empty), or with Remove removes them (their values unused).
	Sysrc struct {
		File   string  `json:"file,omitempty"`
		Vars   []RCVar `json:"vars"`
		Remove bool    `json:"remove,omitempty"`
	}
	// RemoveFile removes a file if it is there.
	RemoveFile struct {
		Path string `json:"path"`
	}
	// Reboot reboots the host now.
	Reboot struct{}
	// MountBootEnv mounts boot environment Name at MountPoint (bectl
	// mount).
	MountBootEnv struct {
		Name       string `json:"name"`
		MountPoint string `json:"mount_point"`
	}
	// UnmountBootEnv unmounts boot environment Name (bectl umount).
	UnmountBootEnv struct {
		Name string `json:"name"`
	}
	// ActivateBootEnv makes Name the boot environment the host boots:
	// with Temporary for the next boot only (bectl activate -t), else
	// for good.
	ActivateBootEnv struct {
		Name      string `json:"name"`
		Temporary bool   `json:"temporary,omitempty"`
	}
	// MountDevfs mounts a devfs at MountPoint (the /dev of a mounted
	// boot environment, which package scripts run there need).
	MountDevfs struct {
		MountPoint string `json:"mount_point"`
	}
	// UnmountDevfs unmounts the devfs at MountPoint.
	UnmountDevfs struct {
		MountPoint string `json:"mount_point"`
	}
	// HealthCommand runs the admin's health check (--health-cmd), as
	// the words given, without a shell.
	HealthCommand struct {
		Args []string `json:"args"`
	}
	// Watchdog pats the hardware watchdog once (watchdog(8)): armed
	// for Timeout seconds, or with 0 turned off.
	Watchdog struct {
		Timeout int `json:"timeout"`
	}
)

// opKinds makes an empty operation of each kind, for reading plans back.
var opKinds = map[string]func() Op{
	"make-dir":            func() Op { return &MakeDir{} },
	"fix-metadata-path":   func() Op { return &FixMetadataPath{} },
	"create-boot-env":     func() Op { return &CreateBootEnv{} },
	"snapshot":            func() Op { return &Snapshot{} },
	"destroy-boot-env":    func() Op { return &DestroyBootEnv{} },
	"freebsd-update":      func() Op { return &FreebsdUpdate{} },
	"write-bootcode":      func() Op { return &WriteBootcode{} },
	"format-esp":          func() Op { return &FormatESP{} },
	"mount-esp":           func() Op { return &MountESP{} },
	"unmount-esp":         func() Op { return &UnmountESP{} },
	"stage-loader":        func() Op { return &StageLoader{} },
	"place-loader":        func() Op { return &PlaceLoader{} },
	"create-boot-entry":   func() Op { return &CreateBootEntry{} },
	"set-boot-order":      func() Op { return &SetBootOrder{} },
	"sync":                func() Op { return &Sync{} },
	"packages":            func() Op { return &Packages{} },
	"upgrade-pool":        func() Op { return &UpgradePool{} },
	"enable-feature":      func() Op { return &EnableFeature{} },
	"upgrade-filesystems": func() Op { return &UpgradeFilesystems{} },
	"install-file":        func() Op { return &InstallFile{} },
	"sysrc":               func() Op { return &Sysrc{} },
	"remove-file":         func() Op { return &RemoveFile{} },
	"reboot":              func() Op { return &Reboot{} },
	"mount-boot-env":      func() Op { return &MountBootEnv{} },
	"unmount-boot-env":    func() Op { return &UnmountBootEnv{} },
	"activate-boot-env":   func() Op { return &ActivateBootEnv{} },
	"mount-devfs":         func() Op { return &MountDevfs{} },
	"unmount-devfs":       func() Op { return &UnmountDevfs{} },
	"health-command":      func() Op { return &HealthCommand{} },
	"watchdog":            func() Op { return &Watchdog{} },
}

// Kind implements Op.
func (*MakeDir) Kind() string            { return "make-dir" }
func (*FixMetadataPath) Kind() string    { return "fix-metadata-path" }
func (*CreateBootEnv) Kind() string      { return "create-boot-env" }
func (*Snapshot) Kind() string           { return "snapshot" }
func (*DestroyBootEnv) Kind() string     { return "destroy-boot-env" }
func (*FreebsdUpdate) Kind() string      { return "freebsd-update" }
func (*WriteBootcode) Kind() string      { return "write-bootcode" }
func (*FormatESP) Kind() string          { return "format-esp" }
func (*MountESP) Kind() string           { return "mount-esp" }
func (*UnmountESP) Kind() string         { return "unmount-esp" }
func (*StageLoader) Kind() string        { return "stage-loader" }
func (*PlaceLoader) Kind() string        { return "place-loader" }
func (*CreateBootEntry) Kind() string    { return "create-boot-entry" }
func (*SetBootOrder) Kind() string       { return "set-boot-order" }
func (*Sync) Kind() string               { return "sync" }
func (*Packages) Kind() string           { return "packages" }
func (*UpgradePool) Kind() string        { return "upgrade-pool" }
func (*EnableFeature) Kind() string      { return "enable-feature" }
func (*UpgradeFilesystems) Kind() string { return "upgrade-filesystems" }
func (*InstallFile) Kind() string        { return "install-file" }
func (*Sysrc) Kind() string              { return "sysrc" }
func (*RemoveFile) Kind() string         { return "remove-file" }
func (*Reboot) Kind() string             { return "reboot" }
func (*MountBootEnv) Kind() string       { return "mount-boot-env" }
func (*UnmountBootEnv) Kind() string     { return "unmount-boot-env" }
func (*ActivateBootEnv) Kind() string    { return "activate-boot-env" }
func (*MountDevfs) Kind() string         { return "mount-devfs" }
func (*UnmountDevfs) Kind() string       { return "unmount-devfs" }
func (*HealthCommand) Kind() string      { return "health-command" }
func (*Watchdog) Kind() string           { return "watchdog" }

func argv(args ...string) host.Command { return host.Command{Args: args} }

// Command implements Op.
func (o *MakeDir) Command() host.Command { return argv("mkdir", "-p", o.Path) }
func (o *FixMetadataPath) Command() host.Command {
	fix := freebsdupdate.MetadataPathFix(o.Backup)
	if o.Edit {
		return fix[1]
	}
	return fix[0]
}
func (o *CreateBootEnv) Command() host.Command {
	a, _ := bootenv.CreateArgs(o.Name)
	return argv(a...)
}
func (o *DestroyBootEnv) Command() host.Command {
	a, _ := bootenv.DestroyArgs(o.Name)
	return argv(a...)
}
func (o *Snapshot) Command() host.Command {
	a, _ := bootenv.SnapshotArgs(o.Dataset, o.Name)
	return argv(a...)
}
func (o *FreebsdUpdate) Command() host.Command {
	s := o.script()
	switch o.Phase {
	case "upgrade":
		c, _ := s.UpgradeCommand(freebsdupdate.MustParseRelease(o.Release))
		return c
	case "fetch":
		return s.FetchCommand()
	}
	return s.InstallCommand()
}
func (o *WriteBootcode) Command() host.Command {
	a, _ := o.targets().BootcodeArgvFrom(o.partition(), o.bootDir())
	return argv(a...)
}
func (o *FormatESP) Command() host.Command {
	return argv("newfs_msdos", "-F", "32", "-c", "1", "/dev/"+o.ESP)
}
func (o *MountESP) Command() host.Command {
	return argv("mount_msdosfs", "/dev/"+o.ESP, o.MountPoint)
}
func (o *UnmountESP) Command() host.Command { return argv("umount", o.MountPoint) }
func (o *StageLoader) Command() host.Command {
	return argv("cp", o.Source, o.Target()+".new")
}
func (o *PlaceLoader) Command() host.Command {
	return argv("mv", o.Target()+".new", o.Target())
}
func (o *CreateBootEntry) Command() host.Command {
	return argv("efibootmgr", "-a", "-c", "-l", path.Join(o.MountPoint, gpart.ESPLoaderPath), "-L", o.Label())
}
func (o *SetBootOrder) Command() host.Command {
	return argv("efibootmgr", "-o", strings.Join(o.Order, ","))
}
func (*Sync) Command() host.Command { return argv("sync") }
func (o *Packages) Command() host.Command {
	switch o.Action {
	case "bootstrap":
		return pkgng.BootstrapCommand()
	case "portmaster":
		return pkgng.PortmasterCommand()
	case "compat":
		return pkgng.CompatInstallCommand(o.Major)
	}
	if o.Chroot != "" {
		return pkgng.UpgradeCommandIn(o.Chroot)
	}
	return pkgng.UpgradeCommand()
}
func (o *UpgradePool) Command() host.Command {
	a, _ := zpool.UpgradePoolArgv(o.Pool)
	return argv(a...)
}
func (o *EnableFeature) Command() host.Command {
	return argv("zpool", "set", "feature@"+o.Feature+"=enabled", o.Pool)
}
func (o *UpgradeFilesystems) Command() host.Command {
	a, _ := zpool.UpgradeFilesystemsArgv(o.Dataset)
	return argv(a...)
}
func (o *InstallFile) Command() host.Command {
	return argv("install", "-m", o.Mode, o.Source, o.Target)
}
func (o *Sysrc) Command() host.Command {
	a := []string{"sysrc"}
	if o.File != "" {
		a = append(a, "-f", o.File)
	}
	if o.Remove {
		a = append(a, "-x")
	}
	for _, v := range o.Vars {
		if o.Remove {
			a = append(a, v.Name)
		} else {
			a = append(a, v.Name+"="+v.Value)
		}
	}
	return argv(a...)
}
func (o *RemoveFile) Command() host.Command { return argv("rm", "-f", o.Path) }
func (*Reboot) Command() host.Command       { return argv("shutdown", "-r", "now") }
func (o *MountBootEnv) Command() host.Command {
	return argv(bootenv.Program, "mount", o.Name, o.MountPoint)
}
func (o *UnmountBootEnv) Command() host.Command { return argv(bootenv.Program, "umount", o.Name) }
func (o *ActivateBootEnv) Command() host.Command {
	a, _ := bootenv.ActivateArgs(o.Name, o.Temporary)
	return argv(a...)
}
func (o *MountDevfs) Command() host.Command {
	return argv("mount", "-t", "devfs", "devfs", o.MountPoint)
}
func (o *UnmountDevfs) Command() host.Command  { return argv("umount", o.MountPoint) }
func (o *HealthCommand) Command() host.Command { return argv(o.Args...) }
func (o *Watchdog) Command() host.Command {
	return argv("watchdog", "-t", strconv.Itoa(o.Timeout))
}

// script is the freebsd-update the operation runs.
func (o *FreebsdUpdate) script() freebsdupdate.Script {
	return freebsdupdate.Script{NoCronOption: o.NoCron, BaseDir: o.BaseDir, CurrentlyRunning: o.CurrentlyRunning}
}

func (o *WriteBootcode) bootDir() string {
	if o.BootDir == "" {
		return path.Dir(gpart.GPTZFSBootPath)
	}
	return o.BootDir
}

// Target is the file the copy is for, on the mounted ESP.
func (o *StageLoader) Target() string { return path.Join(o.MountPoint, o.Path) }

// Target is the file the staged copy replaces, on the mounted ESP.
func (o *PlaceLoader) Target() string { return path.Join(o.MountPoint, o.Path) }

// Label is the boot entry's description: FreeBSD and the disk.
func (o *CreateBootEntry) Label() string { return "FreeBSD " + o.Disk }

func (o *WriteBootcode) partition() gpart.Partition {
	return gpart.Partition{Name: o.Partition, Index: o.Index, Type: gpart.TypeFreeBSDBoot}
}

func (o *WriteBootcode) targets() gpart.BootTargets {
	return gpart.BootTargets{Geom: o.Disk, Scheme: o.Scheme, BootPartitions: []gpart.Partition{o.partition()}}
}

// checkPath refuses a path that is not absolute or not clean.
func checkPath(what, p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("%s %q is not a clean absolute path", what, p)
	}
	return nil
}

// checkDevice refuses a device name that is not a plain GEOM name.
func checkDevice(what, name string) error {
	if name == "" || strings.HasPrefix(name, "-") || strings.Contains(name, "..") || strings.ContainsAny(name, " \t\n") {
		return fmt.Errorf("%s %q is not a device name", what, name)
	}
	return nil
}

// checkRelative refuses a path on an ESP that is not relative and clean.
func checkRelative(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "..") {
		return fmt.Errorf("ESP path %q is not a clean relative path", p)
	}
	return nil
}

func (o *MakeDir) check() error         { return checkPath("directory", o.Path) }
func (o *FixMetadataPath) check() error { return checkPath("backup", o.Backup) }
func (o *CreateBootEnv) check() error {
	_, err := bootenv.CreateArgs(o.Name)
	return err
}
func (o *DestroyBootEnv) check() error {
	_, err := bootenv.DestroyArgs(o.Name)
	return err
}
func (o *Snapshot) check() error {
	_, err := bootenv.SnapshotArgs(o.Dataset, o.Name)
	return err
}
func (o *FreebsdUpdate) check() error {
	switch o.Phase {
	case "upgrade":
		r, err := freebsdupdate.ParseRelease(o.Release)
		if err != nil {
			return err
		}
		if _, err = (freebsdupdate.Script{}).UpgradeCommand(r); err != nil {
			return err
		}
	case "fetch", "install":
	default:
		return fmt.Errorf("unknown freebsd-update phase %q", o.Phase)
	}
	if o.BaseDir != "" {
		if err := checkPath("freebsd-update base directory", o.BaseDir); err != nil {
			return err
		}
	}
	if o.CurrentlyRunning != "" {
		if _, err := freebsdupdate.ParseRelease(o.CurrentlyRunning); err != nil {
			return fmt.Errorf("--currently-running %q: %v", o.CurrentlyRunning, err)
		}
	}
	return nil
}
func (o *WriteBootcode) check() error {
	if o.BootDir != "" {
		if err := checkPath("boot directory", o.BootDir); err != nil {
			return err
		}
	}
	_, err := o.targets().BootcodeArgv(o.partition())
	return err
}
func (o *FormatESP) check() error { return checkDevice("ESP", o.ESP) }
func (o *MountESP) check() error {
	if err := checkDevice("ESP", o.ESP); err != nil {
		return err
	}
	return checkPath("mount point", o.MountPoint)
}
func (o *UnmountESP) check() error { return checkPath("mount point", o.MountPoint) }
func (o *StageLoader) check() error {
	if err := checkPath("mount point", o.MountPoint); err != nil {
		return err
	}
	if err := checkPath("source", o.Source); err != nil {
		return err
	}
	return checkRelative(o.Path)
}
func (o *PlaceLoader) check() error {
	if err := checkPath("mount point", o.MountPoint); err != nil {
		return err
	}
	return checkRelative(o.Path)
}
func (o *CreateBootEntry) check() error {
	if err := checkDevice("disk", o.Disk); err != nil {
		return err
	}
	return checkPath("mount point", o.MountPoint)
}
func (o *SetBootOrder) check() error {
	for _, n := range o.Order {
		if _, err := strconv.ParseUint(n, 16, 16); err != nil || len(n) != 4 {
			return fmt.Errorf("boot entry number %q is not four hexadecimal digits", n)
		}
	}
	return nil
}
func (*Sync) check() error { return nil }
func (o *Packages) check() error {
	if o.Chroot != "" {
		if err := checkPath("package chroot", o.Chroot); err != nil || o.Action != "upgrade" {
			return fmt.Errorf("packages %s in %q: only an upgrade runs in a boot environment, given as a clean absolute path", o.Action, o.Chroot)
		}
	}
	switch o.Action {
	case "bootstrap", "upgrade", "portmaster":
		return nil
	case "compat":
		if o.Major <= 0 {
			return fmt.Errorf("compat packages of FreeBSD %d", o.Major)
		}
		return nil
	}
	return fmt.Errorf("unknown package action %q", o.Action)
}
func (o *UpgradePool) check() error {
	_, err := zpool.UpgradePoolArgv(o.Pool)
	return err
}
func (o *EnableFeature) check() error {
	if _, err := zpool.UpgradePoolArgv(o.Pool); err != nil {
		return err
	}
	return checkDevice("feature", o.Feature)
}
func (o *UpgradeFilesystems) check() error {
	_, err := zpool.UpgradeFilesystemsArgv(o.Dataset)
	return err
}
func (o *InstallFile) check() error {
	if err := checkPath("source", o.Source); err != nil {
		return err
	}
	if _, err := strconv.ParseUint(o.Mode, 8, 12); err != nil {
		return fmt.Errorf("file mode %q is not octal", o.Mode)
	}
	return checkPath("target", o.Target)
}
func (o *Sysrc) check() error {
	if o.File != "" {
		if err := checkPath("rc.conf file", o.File); err != nil {
			return err
		}
	}
	if len(o.Vars) == 0 {
		return fmt.Errorf("sysrc names no variable")
	}
	for _, v := range o.Vars {
		if err := v.check(); err != nil {
			return err
		}
	}
	return nil
}

// RCVar is an rc.conf variable and its value.
type RCVar struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// check refuses a variable sysrc would not set as given: a name that is
// not a shell variable's, or a value holding what sysrc writes unquoted
// into the double quotes of NAME="VALUE" (f_sysrc_set in
// usr.sbin/bsdconfig/share/sysrc.subr), which rc reads with sh.
func (v RCVar) check() error {
	ok := v.Name != ""
	for i, r := range v.Name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			ok = false
		}
	}
	if !ok || strings.ContainsAny(v.Value, rcConfValueChars) {
		return fmt.Errorf("rc.conf variable %q=%q is not one zupgrade sets: the name must be a shell variable's, the value without \", $, `, \\ or a line break", v.Name, v.Value)
	}
	return nil
}
func (o *RemoveFile) check() error { return checkPath("file", o.Path) }
func (*Reboot) check() error       { return nil }
func (o *MountBootEnv) check() error {
	if err := bootenv.ValidateName(o.Name); err != nil {
		return err
	}
	return checkPath("mount point", o.MountPoint)
}
func (o *UnmountBootEnv) check() error  { return bootenv.ValidateName(o.Name) }
func (o *ActivateBootEnv) check() error { return bootenv.ValidateName(o.Name) }
func (o *MountDevfs) check() error      { return checkPath("devfs mount point", o.MountPoint) }
func (o *UnmountDevfs) check() error    { return checkPath("devfs mount point", o.MountPoint) }
func (o *HealthCommand) check() error   { return CheckHealthCommand(o.Args) }
func (o *Watchdog) check() error {
	if o.Timeout < 0 {
		return fmt.Errorf("watchdog timeout %d is negative", o.Timeout)
	}
	return nil
}

// opDisk is the disk an operation writes to or reads from ("" for none).
func opDisk(op Op) string {
	switch o := op.(type) {
	case *WriteBootcode:
		return o.Disk
	case *FormatESP:
		return o.Disk
	case *MountESP:
		return o.Disk
	case *UnmountESP:
		return o.Disk
	case *StageLoader:
		return o.Disk
	case *PlaceLoader:
		return o.Disk
	case *CreateBootEntry:
		return o.Disk
	}
	return ""
}

// opDialog is how zupgrade answers an operation run on a terminal; yes is
// the admin's --yes.
func opDialog(op Op, yes bool) host.Dialog {
	if _, ok := op.(*FreebsdUpdate); ok {
		return freebsdupdate.UpgradeDialog(yes)
	}
	// Anything else: answer nothing, stop nothing.
	return func(string) (string, bool) { return "", false }
}

// cmdFor is the plan's entry for an operation, run when cond holds (the
// zero Cond: always).
func cmdFor(op Op, when Cond) Cmd {
	c := op.Command()
	return Cmd{Op: op, Args: c.Args, Env: c.Env, Stdin: string(c.Stdin), Terminal: c.Dialog != nil, When: when}
}

// cmdJSON is Cmd in the plan's JSON.
type cmdJSON struct {
	Op       json.RawMessage `json:"op"`
	Args     []string        `json:"args"`
	Env      []string        `json:"env,omitempty"`
	Stdin    string          `json:"stdin,omitempty"`
	Terminal bool            `json:"terminal,omitempty"`
	When     *Cond           `json:"when,omitempty"`
}

// MarshalJSON writes the operation as an object with its kind, and the
// command it renders beside it (the fields of cmdJSON, written in one
// pass: the journal is written twice per step).
func (c Cmd) MarshalJSON() ([]byte, error) {
	if c.Op == nil {
		return nil, fmt.Errorf("plan command %q has no operation", host.QuoteArgs(c.Args))
	}
	fields, err := json.Marshal(c.Op)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+2*len(fields))
	b = append(b, `{"op":{"kind":`...)
	b = strconv.AppendQuote(b, c.Op.Kind())
	if len(fields) > 2 {
		b = append(append(b, ','), fields[1:]...)
	} else {
		b = append(b, '}')
	}
	add := func(name string, v any) error {
		data, err := json.Marshal(v)
		b = append(append(append(b, `,"`...), name...), `":`...)
		b = append(b, data...)
		return err
	}
	if err := add("args", c.Args); err != nil {
		return nil, err
	}
	if len(c.Env) > 0 {
		if err := add("env", c.Env); err != nil {
			return nil, err
		}
	}
	if c.Stdin != "" {
		if err := add("stdin", c.Stdin); err != nil {
			return nil, err
		}
	}
	if c.Terminal {
		b = append(b, `,"terminal":true`...)
	}
	if !c.When.IsZero() {
		if err := add("when", c.When); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a command back and refuses one whose operation is
// unknown or invalid, or whose argv is not the one the operation renders
// (the plan was edited).
func (c *Cmd) UnmarshalJSON(data []byte) error {
	var j cmdJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	var k struct {
		Kind string `json:"kind"`
	}
	if len(j.Op) == 0 {
		return fmt.Errorf("command %q has no operation (a plan of an older zupgrade)", host.QuoteArgs(j.Args))
	}
	if err := json.Unmarshal(j.Op, &k); err != nil {
		return err
	}
	mk, ok := opKinds[k.Kind]
	if !ok {
		return fmt.Errorf("unknown operation %q", k.Kind)
	}
	op := mk()
	if err := json.Unmarshal(j.Op, op); err != nil {
		return fmt.Errorf("operation %s: %w", k.Kind, err)
	}
	if err := op.check(); err != nil {
		return fmt.Errorf("operation %s: %w", k.Kind, err)
	}
	var when Cond
	if j.When != nil {
		when = *j.When
		if err := when.check(); err != nil {
			return err
		}
	}
	*c = cmdFor(op, when)
	if host.QuoteArgs(c.Args) != host.QuoteArgs(j.Args) {
		return fmt.Errorf("operation %s runs %q, but the plan says %q: the plan was changed by hand", k.Kind, host.QuoteArgs(c.Args), host.QuoteArgs(j.Args))
	}
	return nil
}
