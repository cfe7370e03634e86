// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charmbracelet/log"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

// Env is the process environment a zupgrade invocation runs in. Tests pass
// their own to run the whole CLI in-process.
type Env struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Environ []string
	// Runner runs the host's commands; nil: the real host's (host.ExecRunner
	// with Environ). Tests pass a simulated host's.
	Runner host.Runner
	// Crash, when set, is the engine's crash hook (steps.Engine.Crash);
	// nil: the one of a binary built for crash tests, if any (crashHook).
	Crash func(step string, point steps.CrashPoint)
	// Interrupt is closed when zupgrade is asked to stop (SIGINT, SIGTERM):
	// apply and rollback then stop at a safe point (exit 130), the other
	// commands at once.
	Interrupt <-chan struct{}
	// Executable is the running zupgrade's path on the host, which apply
	// copies for the boot hook; empty: os.Executable. Tests that run
	// zupgrade in process name the binary they put on the host.
	Executable string
	// HostRoot is where the host's file system is for the files zupgrade
	// keeps itself: the default state and log directories are found
	// below it (hostRoot); empty: /. Tests that run zupgrade in process
	// on a simulated host name its root directory.
	HostRoot string

	// stop is Main's view of Interrupt.
	stop *interruption
}

// runner returns the runner of the host's commands.
func (e Env) runner() host.Runner {
	if e.Runner != nil {
		return e.Runner
	}
	return host.ExecRunner{Env: e.Environ}
}

// executable returns the running zupgrade's path on the host.
func (e Env) executable() string {
	if e.Executable != "" {
		return e.Executable
	}
	p, _ := os.Executable()
	return p
}

// getenv looks key up in the invocation's environment.
func (e Env) getenv(key string) string {
	for _, kv := range e.Environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// withLocalPATH returns environ with /usr/local added to its PATH: for every
// entry that ends in /usr/sbin or /usr/bin, the matching /usr/local/sbin or
// /usr/local/bin (hier(7): /usr/local mirrors /usr for software that is not
// part of the base system) is appended when PATH lacks it. The boot hook
// runs zupgrade with rc's PATH, /sbin:/bin:/usr/sbin:/usr/bin
// (libexec/rc/rc), where pkg-static and portmaster, in /usr/local/sbin,
// would not be found. Deriving the entries from PATH, rather than naming
// /usr/local/sbin, keeps a PATH that points elsewhere (a test host's
// directories) consistent. Without PATH, environ is returned as it is.
func withLocalPATH(environ []string) []string {
	at := -1
	for i, kv := range environ {
		if strings.HasPrefix(kv, "PATH=") {
			at = i
		}
	}
	if at < 0 {
		return environ
	}
	dirs := strings.Split(strings.TrimPrefix(environ[at], "PATH="), ":")
	var add []string
	for _, d := range dirs {
		clean := strings.TrimRight(d, "/")
		for _, sub := range []string{"/usr/sbin", "/usr/bin"} {
			if base, ok := strings.CutSuffix(clean, sub); ok {
				local := base + "/usr/local/" + strings.TrimPrefix(sub, "/usr/")
				if !slices.Contains(dirs, local) && !slices.Contains(add, local) {
					add = append(add, local)
				}
			}
		}
	}
	if len(add) == 0 {
		return environ
	}
	out := slices.Clone(environ)
	out[at] = "PATH=" + strings.Join(append(dirs, add...), ":")
	return out
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	StateDir string
	// LogDir is where the run logs go: --log-dir, else
	// steps.LogDirFor(StateDir).
	LogDir  string
	Verbose bool
	// stateDirSet: --state-dir was given, before or after the command,
	// or ZUPGRADE_STATE_DIR; logDirSet: --log-dir was.
	stateDirSet, logDirSet bool
	// stateDirWhy is why zupgrade chose the state directory it did when
	// none was given (defaultStateDir), for plan's Method line.
	stateDirWhy string
}

// stateCommands are the commands that use the state directory: only
// they look for the default one on the host.
var stateCommands = []string{"plan", "apply", "status", "rollback", "finalize"}

// Main runs zupgrade with args (args[0] is the program name) and returns the
// exit code (exitCode). It never calls os.Exit. The commands it runs get
// env's environment with /usr/local added to PATH (withLocalPATH). An error
// is logged on standard error; with --json it is also printed on standard
// output as {"error": MESSAGE, "exit": CODE}, unless the command printed
// its document there already (plan --json prints the blocked plan).
func Main(ctx context.Context, args []string, env Env) int {
	env.Environ = withLocalPATH(env.Environ)
	stdout := &watchedWriter{w: env.Stdout}
	env.Stdout = stdout
	logger := newLogger(env)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	env.stop = &interruption{cancel: cancel, logger: logger, done: make(chan struct{})}
	env.stop.watch(ctx, env.Interrupt)
	app := newApp(env, logger)
	err := app.RunContext(ctx, args)
	if err != nil && env.stop.Stopped() {
		err = mark(ErrInterrupted, err)
	}
	code := exitCode(err)
	if err != nil {
		logger.Error(err.Error())
		if wantsJSON(args) && !stdout.written {
			writeJSON(env.Stdout, jsonError{Error: err.Error(), Exit: code})
		}
	}
	return code
}

// jsonError is how a command given --json reports its error on standard
// output (docs/exit-codes.md).
type jsonError struct {
	Error string `json:"error"`
	Exit  int    `json:"exit"`
}

// wantsJSON reports whether the command line asks for JSON output: --json
// before any "--".
func wantsJSON(args []string) bool {
	for _, a := range args[min(1, len(args)):] {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}

// watchedWriter remembers whether anything was written through it.
type watchedWriter struct {
	w       io.Writer
	written bool
}

func (w *watchedWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		w.written = true
	}
	return w.w.Write(p)
}

// newLogger returns the logger of standard error. charmbracelet/log asks a
// terminal for its colours (termenv's OSC 10/11 queries) when it is given
// the terminal itself, and a terminal that never answers (under script(1),
// expect, ssh -tt) makes every command wait 10 s for the answers. The
// logger is given standard error behind a writer that is no terminal, so
// nothing is asked; on a terminal the colour profile is set here instead,
// from what the environment says (NO_COLOR, TERM=dumb: none).
func newLogger(env Env) *log.Logger {
	logger := log.NewWithOptions(&stderrWriter{w: env.Stderr}, log.Options{Prefix: "zupgrade"})
	logger.SetColorProfile(logColours(env))
	return logger
}

// logColours is the colour profile of the log on standard error.
func logColours(env Env) termenv.Profile {
	if f, ok := env.Stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) && env.getenv("NO_COLOR") == "" && env.getenv("TERM") != "dumb" {
		return termenv.ANSI256
	}
	return termenv.Ascii
}

// stderrWriter hides standard error's *os.File from the logger (newLogger).
type stderrWriter struct{ w io.Writer }

func (w *stderrWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func newApp(env Env, logger *log.Logger) *cli.App {
	g := &globalOptions{}
	app := &cli.App{
		Name:  "zupgrade",
		Usage: "upgrade a FreeBSD host whose root is on ZFS, safely",
		Description: "zupgrade inspects the host, plans every step of the upgrade with the exact\n" +
			"commands it will run (boot code on every mirror member included), and applies\n" +
			"the plan across reboots, resuming by itself. The global options may also\n" +
			"follow the command.\n" +
			"Commands, options, exit codes, files and the safety model: zupgrade(8).",
		Reader:    env.Stdin,
		Writer:    env.Stdout,
		ErrWriter: env.Stderr,
		// The completion scripts ask zupgrade for the words to offer.
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return mark(ErrUsage, err)
		},
		Flags: globalFlags(g, false),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("unknown command %q: zupgrade --help lists the commands", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			inspectCommand(g, env, logger),
			planCommand(g, env, logger),
			applyCommand(g, env, logger),
			statusCommand(g, env, logger),
			rollbackCommand(g, env, logger),
			finalizeCommand(g, env, logger),
			versionCommand(env),
		},
		Version: version,
	}
	app.Commands = append(app.Commands, completionCommand(app, env))
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
		json := slices.ContainsFunc(c.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), "json") })
		c.Description = strings.TrimPrefix(c.Description+"\n\n"+exitHelp(commandExits[c.Name], json), "\n\n")
		// The global options are accepted after the command too; they
		// take effect before its action runs.
		c.Flags = append(c.Flags, globalFlags(g, true)...)
		action := c.Action
		c.Action = func(cc *cli.Context) error {
			if err := g.settle(cc.Context, cc.Command.Name, cc.String("replay") != "", env, logger); err != nil {
				return err
			}
			return action(cc)
		}
	}
	// `zupgrade help [COMMAND]` works, but is not listed among the
	// commands: --help is.
	app.Setup()
	if h := app.Command("help"); h != nil {
		h.Hidden = true
		help := h.Action
		h.Action = func(c *cli.Context) error {
			if name := c.Args().First(); name != "" && app.Command(name) == nil {
				return usageErrorf("no help for %q, which is not a command: zupgrade --help lists the commands", name)
			}
			return help(c)
		}
	}
	return app
}

// globalFlags returns the global options. The copies given to each command
// (again) are hidden from its help and set the same options only when
// given after the command.
func globalFlags(g *globalOptions, again bool) []cli.Flag {
	if !again {
		return []cli.Flag{
			&cli.StringFlag{Name: "state-dir", Usage: "directory for zupgrade's journal, lock and plans (env ZUPGRADE_STATE_DIR; default zupgrade/ on the boot pool's root dataset, /zroot/zupgrade on bsdinstall's layout, which every boot environment sees, else " + steps.DefaultStateDir + ")", TakesFile: true, Destination: &g.StateDir,
				Action: func(*cli.Context, string) error { g.stateDirSet = true; return nil }},
			&cli.StringFlag{Name: "log-dir", Usage: "directory for the run logs (env ZUPGRADE_LOG_DIR; default " + steps.DefaultLogDir + ", or STATE/logs with another --state-dir)", TakesFile: true, Destination: &g.LogDir,
				Action: func(*cli.Context, string) error { g.logDirSet = true; return nil }},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every command run", Destination: &g.Verbose},
		}
	}
	// A flag's Action runs when the command's own copy is set.
	return []cli.Flag{
		&cli.StringFlag{Name: "state-dir", Hidden: true, TakesFile: true, Action: func(_ *cli.Context, v string) error {
			g.StateDir, g.stateDirSet = v, true
			return nil
		}},
		&cli.StringFlag{Name: "log-dir", Hidden: true, TakesFile: true, Action: func(_ *cli.Context, v string) error {
			g.LogDir, g.logDirSet = v, true
			return nil
		}},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Hidden: true, Action: func(_ *cli.Context, v bool) error {
			g.Verbose = g.Verbose || v
			return nil
		}},
	}
}

// settle completes the global options once the command's own flags are
// parsed: ZUPGRADE_STATE_DIR when --state-dir was not given, else for the
// commands that use it the state directory zupgrade finds on the host
// (defaultStateDir), or with a capture (replay), which cannot say where
// that is, the default inside the boot environment, with why
// (replayStateDirWhy); ZUPGRADE_LOG_DIR when --log-dir was not given, else
// the default log directory beside a default state directory and
// steps.LogDirFor beside another; both directories made absolute and
// checked (their paths go into the boot hook's rc.conf.d file and the
// plan, which run from elsewhere); and the log level.
func (g *globalOptions) settle(ctx context.Context, command string, replay bool, env Env, logger *log.Logger) error {
	if !g.stateDirSet {
		if v := env.getenv("ZUPGRADE_STATE_DIR"); v != "" {
			g.StateDir, g.stateDirSet = v, true
		}
	}
	switch {
	case g.stateDirSet:
	case replay:
		g.StateDir, g.stateDirWhy = filepath.Join(hostRoot(env), steps.DefaultStateDir), replayStateDirWhy
	case slices.Contains(stateCommands, command):
		g.StateDir, g.stateDirWhy = defaultStateDir(ctx, env)
	default:
		g.StateDir = filepath.Join(hostRoot(env), steps.DefaultStateDir)
	}
	abs, err := filepath.Abs(g.StateDir)
	if err != nil {
		return usageErrorf("--state-dir %q: %v", g.StateDir, err)
	}
	g.StateDir = abs
	if !g.logDirSet {
		g.LogDir = env.getenv("ZUPGRADE_LOG_DIR")
	}
	switch {
	case g.LogDir != "":
	case !g.stateDirSet:
		g.LogDir = filepath.Join(hostRoot(env), steps.DefaultLogDir)
	default:
		g.LogDir = steps.LogDirFor(g.StateDir)
	}
	if g.LogDir, err = filepath.Abs(g.LogDir); err != nil {
		return usageErrorf("--log-dir %q: %v", g.LogDir, err)
	}
	for _, d := range []struct{ flag, dir string }{{"--state-dir", g.StateDir}, {"--log-dir", g.LogDir}} {
		if err := steps.CheckHookDir(d.flag, d.dir); err != nil {
			return mark(ErrUsage, err)
		}
	}
	if g.Verbose {
		logger.SetLevel(log.DebugLevel)
	}
	return nil
}

// hostRunner returns the runner for read-only commands: the real host
// behind the read-only guard, or a capture when replay names one.
func hostRunner(env Env, replay string, logger *log.Logger) (host.Runner, error) {
	if replay != "" {
		data, err := os.ReadFile(replay)
		if err != nil {
			return nil, usageErrorf("read capture: %v", err)
		}
		rp, err := host.ParseCapture(replay, data)
		if err != nil {
			return nil, mark(ErrUsage, err)
		}
		return rp, nil
	}
	return host.ReadOnlyRunner{Next: loggingRunner{next: env.runner(), logger: logger}}, nil
}

// loggingRunner logs every command at debug level.
type loggingRunner struct {
	next   host.Runner
	logger *log.Logger
}

func (l loggingRunner) Run(ctx context.Context, cmd host.Command) (host.Result, error) {
	res, err := l.next.Run(ctx, cmd)
	l.logger.Debug("ran", "cmd", cmd.Line(), "exit", res.ExitCode, "err", err)
	return res, err
}

func fprintf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, args...)
}

// stateStore returns the state directory's store, with the boot environment
// zupgrade runs in: the root file system's dataset, from the loader's
// vfs.root.mountfrom (kenv, read-only), "" when it cannot be told.
func stateStore(ctx context.Context, g *globalOptions, env Env) steps.Store {
	s := steps.Store{Dir: g.StateDir}
	res, err := host.ReadOnlyRunner{Next: env.runner()}.Run(ctx, host.Command{Args: []string{"kenv", "-q", "vfs.root.mountfrom"}})
	if err == nil && res.OK() {
		if ds, ok := strings.CutPrefix(strings.TrimSpace(string(res.Stdout)), "zfs:"); ok {
			s.BootEnv = ds
		}
	}
	return s
}
