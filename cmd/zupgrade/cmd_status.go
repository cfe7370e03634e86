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
		Usage:     "show where the current run stands: steps done, the current one, what is next",
		ArgsUsage: " ",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the journal as JSON", Destination: &asJSON}},
		Action: func(c *cli.Context) error {
			j, err := steps.Store{Dir: g.StateDir}.Load()
			if err != nil {
				return err
			}
			if j == nil {
				if asJSON {
					return writeJSON(env.Stdout, map[string]any{"status": "none"})
				}
				fprintf(env.Stdout, "no zupgrade run (state directory %s)\n", g.StateDir)
				return nil
			}
			if asJSON {
				return writeJSON(env.Stdout, j)
			}
			renderStatus(env, j)
			return nil
		},
	}
}

func renderStatus(env Env, j *steps.Journal) {
	to := j.Plan.To
	if j.Plan.Mode == "patch" {
		to = "patches of " + j.Plan.From
	}
	fprintf(env.Stdout, "run %s: %s -> %s, %s\n", j.RunID, j.Plan.From, to, j.Status)
	if j.Message != "" {
		fprintf(env.Stdout, "  %s\n", j.Message)
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
