// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"fmt"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/zupgrade/zupgrade/steps"
)

func statusCommand(g *globalOptions, env Env, _ *log.Logger) *cli.Command {
	var asJSON bool
	return &cli.Command{
		Name:      "status",
		Usage:     "show where the current run stands: live or stopped, steps done, the current one, what is next",
		ArgsUsage: " ",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the journal as JSON, with whether a run is live and its lock's owner", Destination: &asJSON}},
		Action: func(c *cli.Context) error {
			store := stateStore(c.Context, g, env)
			j, err := store.Load()
			if err != nil {
				return err
			}
			if j == nil {
				if asJSON {
					return writeJSON(env.Stdout, statusNone{Version: statusVersion, Status: "none"})
				}
				fprintf(env.Stdout, "no zupgrade run (state directory %s)\n", g.StateDir)
				return nil
			}
			owner := store.Owner()
			if asJSON {
				return writeJSON(env.Stdout, statusJSON{Version: statusVersion, Journal: j, Live: owner != nil, Owner: owner, TrialFailure: j.TrialFailure()})
			}
			renderStatus(env, j, owner)
			return nil
		},
	}
}

// statusVersion is the version of status --json's document
// (docs/status-json.md). Within a version fields are only added.
const statusVersion = 1

// statusJSON is status --json: the journal, with whether a zupgrade
// process runs it now (live) and the lock's owner then.
type statusJSON struct {
	Version int `json:"version"`
	*steps.Journal
	Live  bool             `json:"live"`
	Owner *steps.LockOwner `json:"lock_owner,omitempty"`
	// TrialFailure is status's "trial of BE failed: WHY" line.
	TrialFailure string `json:"trial_failure,omitempty"`
}

// statusNone is status --json when no run is pending.
type statusNone struct {
	Version int    `json:"version"`
	Status  string `json:"status"`
}

func renderStatus(env Env, j *steps.Journal, owner *steps.LockOwner) {
	to := j.Plan.To
	switch j.Plan.Mode {
	case "patch":
		to = "patches of " + j.Plan.From
	case steps.ModeFinalize:
		to = "finalized"
	}
	// A staged run's failed trial comes first: it is what the admin,
	// back in the old boot environment, needs to know.
	if f := j.TrialFailure(); f != "" {
		fprintf(env.Stdout, "%s\n", f)
	}
	fprintf(env.Stdout, "run %s: %s -> %s, %s\n", j.RunID, j.Plan.From, to, j.Status)
	switch {
	case owner != nil:
		fprintf(env.Stdout, "  live: zupgrade %s runs it now\n", owner)
	case j.Status == steps.StatusRunning:
		fprintf(env.Stdout, "  stopped: no zupgrade runs it (the one that did ended during a step: killed, crashed or the power went); zupgrade apply resumes it\n")
	}
	if j.Message != "" && j.Message != j.TrialFailure() {
		fprintf(env.Stdout, "  %s\n", j.Message)
	}
	if s := j.Plan.Staged; j.FellBack && s != nil {
		fprintf(env.Stdout, "  the run is over: zupgrade rollback closes it (the host stays on %s); then bectl destroy %s and zupgrade apply --to %s start a new one\n", s.Running, s.BootEnv, j.Plan.To)
	}
	cur := j.Current()
	for i, r := range j.Steps {
		mark := " "
		if cur != nil && cur.ID == r.ID {
			mark = ">"
		}
		line := fmt.Sprintf("%s %2d. %-8s %s", mark, i+1, r.State, j.Plan.Steps[i].Title)
		if r.Note != "" {
			line += " (" + r.Note + ")"
		}
		fprintf(env.Stdout, "%s\n", line)
	}
}
