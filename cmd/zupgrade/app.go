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
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/host"
)

// Env is the process environment a zupgrade invocation runs in. Tests pass
// their own to run the whole CLI in-process.
type Env struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Environ []string
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
	Verbose  bool
}

const defaultStateDir = "/var/db/zupgrade"

// Main runs zupgrade with args (args[0] is the program name) and returns the
// exit code. It never calls os.Exit. The commands it runs get env's
// environment with /usr/local added to PATH (withLocalPATH).
func Main(ctx context.Context, args []string, env Env) int {
	env.Environ = withLocalPATH(env.Environ)
	logger := log.NewWithOptions(env.Stderr, log.Options{Prefix: "zupgrade"})
	app := newApp(env, logger)
	err := app.RunContext(ctx, args)
	if err != nil {
		logger.Error(err.Error())
	}
	return exitCode(err)
}

func newApp(env Env, logger *log.Logger) *cli.App {
	g := &globalOptions{}
	app := &cli.App{
		Name:  "zupgrade",
		Usage: "upgrade a FreeBSD host whose root is on ZFS, safely",
		Description: "zupgrade inspects the host, plans every step of the upgrade with the exact\n" +
			"commands it will run (boot code on every mirror member included), and applies\n" +
			"the plan across reboots, resuming by itself.\n" +
			"Commands, options, exit codes, files and the safety model: zupgrade(8).",
		Reader:    env.Stdin,
		Writer:    env.Stdout,
		ErrWriter: env.Stderr,
		// The completion scripts ask zupgrade for the words to offer.
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return withCode(ExitUsage, err)
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "state-dir", Value: defaultStateDir, Usage: "directory for zupgrade's journal, lock, plans and logs (env ZUPGRADE_STATE_DIR)", TakesFile: true, Destination: &g.StateDir},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every command run", Destination: &g.Verbose},
		},
		Before: func(c *cli.Context) error {
			if !c.IsSet("state-dir") {
				if v := env.getenv("ZUPGRADE_STATE_DIR"); v != "" {
					g.StateDir = v
				}
			}
			// The state directory's path goes into the boot hook and the
			// plan, which run from elsewhere: it is made absolute here.
			abs, err := filepath.Abs(g.StateDir)
			if err != nil {
				return usageErrorf("--state-dir %q: %v", g.StateDir, err)
			}
			g.StateDir = abs
			if g.Verbose {
				logger.SetLevel(log.DebugLevel)
			}
			return nil
		},
		Commands: []*cli.Command{
			inspectCommand(g, env, logger),
			planCommand(g, env, logger),
			applyCommand(g, env, logger),
			statusCommand(g, env, logger),
			rollbackCommand(g, env, logger),
			versionCommand(env),
		},
		Version: version,
	}
	app.Commands = append(app.Commands, completionCommand(app, env))
	cli.VersionPrinter = func(*cli.Context) { io.WriteString(env.Stdout, versionText()) }
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	// `zupgrade help [COMMAND]` works, but is not listed among the
	// commands: --help is.
	app.Setup()
	if h := app.Command("help"); h != nil {
		h.Hidden = true
	}
	return app
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
			return nil, withCode(ExitUsage, err)
		}
		return rp, nil
	}
	return host.ReadOnlyRunner{Next: loggingRunner{next: host.ExecRunner{Env: env.Environ}, logger: logger}}, nil
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
