// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The back-ends a suite runs on.
const (
	BackendInProcess  = "in-process"
	BackendLinuxGuest = "linux-guest"
	BackendImage      = "image"
)

// The --keep policies: whose artefact directories survive the run.
const (
	KeepFail   = "fail"
	KeepAlways = "always"
	KeepNever  = "never"
)

// The scenario statuses of a suite.
const (
	StatusPassed  = "passed"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// SuiteOptions say how RunSuite runs a set of scenarios.
type SuiteOptions struct {
	// Backend is BackendInProcess, BackendLinuxGuest or BackendImage.
	Backend string
	// Firmware is bios, uefi or both. The simulated back-ends skip a
	// scenario whose machine cannot boot with the one asked for; the image
	// back-end runs each scenario once per firmware.
	Firmware string
	// Parallel is how many scenarios run at once (1 when 0). Guests that
	// run at once start staggered: one boots until its agent is up, then
	// the next (GuestKit).
	Parallel int
	// Keep is KeepFail (the default), KeepAlways or KeepNever.
	Keep string
	// WorkDir holds one directory per scenario (its artefacts).
	WorkDir string
	// Bins are the programs the scenarios need.
	Bins *Binaries
	// Kit is the Linux guest's kit (BackendLinuxGuest).
	Kit *GuestKit
	// Image is the FreeBSD image to boot (BackendImage).
	Image *ImageOptions
	// Progress gets one line per scenario as it ends.
	Progress io.Writer
}

// ScenarioResult is one scenario's verdict in a suite.
type ScenarioResult struct {
	Name     string `json:"name"`
	Backend  string `json:"backend"`
	Firmware string `json:"firmware,omitempty"`
	Status   string `json:"status"`
	// Reason says why the scenario was skipped, or the error that stopped
	// it before it could be judged.
	Reason   string   `json:"reason,omitempty"`
	Failures []string `json:"failures,omitempty"`
	// Wall is the scenario's wall time in seconds.
	Wall     float64 `json:"wall_seconds"`
	Launches int     `json:"launches"`
	Boots    int     `json:"boots"`
	Cuts     int     `json:"cuts"`
	// Retries are infrastructure retries (a launch that printed nothing),
	// counted apart from failures.
	Retries int `json:"infrastructure_retries"`
	// BootToReady is, per launch, seconds from the start of the VM to its
	// agent's first line (guests only).
	BootToReady []float64 `json:"boot_to_ready_seconds,omitempty"`
	// Artefacts is the scenario's kept directory, "" once removed.
	Artefacts string   `json:"artefacts,omitempty"`
	Outcome   *Outcome `json:"outcome,omitempty"`
	// Log is every launch's job and output (failed scenarios only).
	Log string `json:"log,omitempty"`
}

// SuiteResult is the verdict of a whole suite.
type SuiteResult struct {
	Backend string           `json:"backend"`
	Accel   string           `json:"accelerator,omitempty"`
	Results []ScenarioResult `json:"scenarios"`
	Passed  int              `json:"passed"`
	Failed  int              `json:"failed"`
	Skipped int              `json:"skipped"`
	// Wall is the suite's wall time in seconds.
	Wall float64 `json:"wall_seconds"`
}

// Summary is the closing line: "N passed, N failed, N skipped".
func (r *SuiteResult) Summary() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", r.Passed, r.Failed, r.Skipped)
}

// CheckPatterns fails on a pattern that can match none of the scenarios
// nor a cell of a matrix scenario (SCENARIO--STEP), before anything is
// built or expanded.
func CheckPatterns(scs []*Scenario, patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("scenario pattern %q: %v", p, err)
		}
		ok := false
		for _, sc := range scs {
			m, _ := path.Match(p, sc.Name)
			ok = ok || m || (sc.Matrix != nil && strings.HasPrefix(p, sc.Name+"--"))
		}
		if !ok {
			return noMatch(scs, p)
		}
	}
	return nil
}

func noMatch(scs []*Scenario, p string) error {
	var names []string
	for _, sc := range scs {
		names = append(names, sc.Name)
	}
	return fmt.Errorf("no scenario matches %q (there are: %s)", p, strings.Join(names, ", "))
}

// Select keeps the scenarios whose names match one of the patterns (exact
// names or path.Match globs); no pattern keeps them all. A pattern that
// matches no scenario is an error, so that a typing mistake never runs
// nothing.
func Select(scs []*Scenario, patterns []string) ([]*Scenario, error) {
	if len(patterns) == 0 {
		return scs, nil
	}
	var out []*Scenario
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("scenario pattern %q: %v", p, err)
		}
		n := 0
		for _, sc := range scs {
			if ok, _ := path.Match(p, sc.Name); ok {
				n++
				if !slices.Contains(out, sc) {
					out = append(out, sc)
				}
			}
		}
		if n == 0 {
			return nil, noMatch(scs, p)
		}
	}
	slices.SortFunc(out, func(a, b *Scenario) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Firmwares are the firmwares the scenario's machine boots with: bios,
// uefi or both, from its preset (bios+uefi by default).
func (sc *Scenario) Firmwares() []string {
	switch strings.ToLower(sc.Machine.Preset) {
	case "bios", "bios-only":
		return []string{"bios"}
	case "uefi", "uefi-only":
		return []string{"uefi"}
	}
	return []string{"bios", "uefi"}
}

// cell is one scenario run of a suite: the scenario, on one firmware for
// the image back-end.
type cell struct {
	sc       *Scenario
	firmware string
	skip     string
}

func (o SuiteOptions) cells(scs []*Scenario) []cell {
	fw := o.Firmware
	if fw == "" {
		fw = "both"
	}
	var out []cell
	for _, sc := range scs {
		if o.Backend == BackendImage {
			for _, f := range []string{"bios", "uefi"} {
				if fw != "both" && fw != f {
					continue
				}
				c := cell{sc: sc, firmware: f, skip: sc.Skip}
				switch {
				case c.skip != "":
				case !slices.Contains(sc.Firmwares(), f):
					c.skip = fmt.Sprintf("the machine (preset %s) does not boot with %s", sc.Machine.Preset, f)
				case o.Image != nil:
					c.skip = o.Image.cannotRun(sc, f)
				}
				out = append(out, c)
			}
			continue
		}
		c := cell{sc: sc, skip: sc.Skip}
		if c.skip == "" && fw != "both" && !slices.Contains(sc.Firmwares(), fw) {
			c.skip = fmt.Sprintf("the machine (preset %s) does not boot with %s", sc.Machine.Preset, fw)
		}
		out = append(out, c)
	}
	return out
}

// CheckSuiteOptions refuses options that cannot work, saying what to give.
func CheckSuiteOptions(o SuiteOptions) error {
	switch o.Backend {
	case BackendInProcess:
	case BackendLinuxGuest:
		if o.Kit == nil {
			return fmt.Errorf("the linux-guest back-end needs its kit (NewGuestKit)")
		}
	case BackendImage:
		if o.Image == nil {
			return fmt.Errorf("the image back-end needs an image (--image FILE)")
		}
	default:
		return fmt.Errorf("back-end %q: want %s, %s or %s", o.Backend, BackendInProcess, BackendLinuxGuest, BackendImage)
	}
	switch o.Firmware {
	case "", "bios", "uefi", "both":
	default:
		return fmt.Errorf("firmware %q: want bios, uefi or both", o.Firmware)
	}
	switch o.Keep {
	case "", KeepFail, KeepAlways, KeepNever:
	default:
		return fmt.Errorf("keep %q: want fail, always or never", o.Keep)
	}
	if o.Parallel < 0 {
		return fmt.Errorf("parallel %d: want 1 or more", o.Parallel)
	}
	if o.Bins == nil || o.WorkDir == "" {
		return fmt.Errorf("the suite needs its binaries and a work directory")
	}
	return nil
}

// RunSuite runs the scenarios, Parallel at a time, and returns every
// verdict in the scenarios' order.
func RunSuite(ctx context.Context, scs []*Scenario, o SuiteOptions) (*SuiteResult, error) {
	if err := CheckSuiteOptions(o); err != nil {
		return nil, err
	}
	par := max(o.Parallel, 1)
	cells := o.cells(scs)
	sr := &SuiteResult{Backend: o.Backend, Results: make([]ScenarioResult, len(cells))}
	if o.Kit != nil && o.Backend == BackendLinuxGuest {
		sr.Accel = strings.ToUpper(o.Kit.Accel)
	}
	start := time.Now()
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, c := range cells {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := o.runCell(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			sr.Results[i] = r
			if o.Progress != nil {
				fmt.Fprintln(o.Progress, r.line())
			}
		}()
	}
	wg.Wait()
	for _, r := range sr.Results {
		switch r.Status {
		case StatusPassed:
			sr.Passed++
		case StatusFailed:
			sr.Failed++
		default:
			sr.Skipped++
		}
	}
	sr.Wall = time.Since(start).Seconds()
	return sr, nil
}

// line is the scenario's progress line.
func (r ScenarioResult) line() string {
	name := r.Name
	if r.Firmware != "" {
		name += "@" + r.Firmware
	}
	switch r.Status {
	case StatusSkipped:
		return fmt.Sprintf("SKIP %s: %s", name, r.Reason)
	case StatusPassed:
		return fmt.Sprintf("PASS %s %s: %d launches, %d boots, %d cuts, %d infrastructure retries, wall %.1fs", name, r.Backend, r.Launches, r.Boots, r.Cuts, r.Retries, r.Wall)
	}
	why := r.Reason
	if why == "" {
		why = strings.Join(r.Failures, "; ")
	}
	kept := ""
	if r.Artefacts != "" {
		kept = " (artefacts in " + r.Artefacts + ")"
	}
	return fmt.Sprintf("FAIL %s %s: %s%s", name, r.Backend, why, kept)
}

// guestStats is what a guest back-end counts beside the result.
type guestStats interface {
	Stats() (retries int, bootToReady []time.Duration)
}

func (o SuiteOptions) runCell(ctx context.Context, c cell) ScenarioResult {
	r := ScenarioResult{Name: c.sc.Name, Backend: o.Backend, Firmware: c.firmware}
	if c.skip != "" {
		r.Status, r.Reason = StatusSkipped, c.skip
		return r
	}
	start := time.Now()
	name := c.sc.Name
	if c.firmware != "" {
		name += "-" + c.firmware
	}
	dir, err := os.MkdirTemp(o.WorkDir, name+"-")
	if err != nil {
		r.Status, r.Reason = StatusFailed, err.Error()
		return r
	}
	b, closeFn, err := o.backend(dir, c)
	if err == nil {
		r.Backend = b.Name()
		var res *Result
		limit := time.Duration(0)
		if o.Kit != nil && o.Backend == BackendLinuxGuest {
			limit = o.Kit.ScenarioLimit
		}
		sctx := ctx
		if limit > 0 {
			// The limit runs from when the scenario's guest starts, not
			// while it waits for another guest's boot (-parallel).
			var cancel context.CancelFunc
			sctx, cancel = withScenarioLimit(ctx, limit)
			defer cancel()
		}
		res, err = Execute(sctx, c.sc, b)
		if cause := context.Cause(sctx); err != nil && sctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w: %v", err, cause)
		}
		if gs, ok := b.(guestStats); ok {
			retries, btr := gs.Stats()
			r.Retries = retries
			for _, d := range btr {
				r.BootToReady = append(r.BootToReady, d.Seconds())
			}
		}
		closeFn()
		if err == nil {
			r.Launches, r.Boots, r.Cuts, r.Outcome = len(res.Launches), res.Boots, res.Cuts, res.Outcome
			r.Failures = res.Failures
			for _, f := range c.sc.Faults {
				if f.Kind == KindPowerCut && res.Cuts == 0 {
					r.Failures = append(r.Failures, fmt.Sprintf("the power-cut fault %+v never fired", f))
				}
			}
			if len(r.Failures) > 0 {
				r.Log = res.Log
			}
		}
	}
	r.Wall = time.Since(start).Seconds()
	r.Status = StatusPassed
	if err != nil {
		r.Status, r.Reason = StatusFailed, err.Error()
	} else if len(r.Failures) > 0 {
		r.Status = StatusFailed
	}
	keep := o.Keep == KeepAlways || (o.Keep != KeepNever && r.Status == StatusFailed)
	if keep {
		r.Artefacts = dir
	} else {
		os.RemoveAll(dir)
	}
	return r
}

// backend makes the cell's back-end in dir, with what closes it.
func (o SuiteOptions) backend(dir string, c cell) (Backend, func(), error) {
	switch o.Backend {
	case BackendInProcess:
		b, err := NewInProcess(dir, c.sc, o.Bins)
		return b, func() {}, err
	case BackendLinuxGuest:
		g, err := NewLinuxGuest(o.Kit, dir, c.sc, o.Bins)
		if err != nil {
			return nil, nil, err
		}
		return g, g.Close, nil
	}
	g, err := NewImageGuest(*o.Image, dir, c.sc, c.firmware)
	if err != nil {
		return nil, nil, err
	}
	return g, g.Close, nil
}

// WriteJSON writes the suite's verdicts as one JSON object.
func (r *SuiteResult) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

type junitSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Suites  []junitRun `xml:"testsuite"`
}

type junitRun struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the verdicts as JUnit XML: one test case per scenario
// (and firmware), in a test suite named for the back-end.
func (r *SuiteResult) WriteJUnit(w io.Writer) error {
	run := junitRun{Name: "zupgrade-vmtest/" + r.Backend, Tests: len(r.Results), Failures: r.Failed, Skipped: r.Skipped, Time: fmt.Sprintf("%.3f", r.Wall)}
	for _, s := range r.Results {
		name := s.Name
		if s.Firmware != "" {
			name += "@" + s.Firmware
		}
		c := junitCase{Name: name, Classname: "vmtest." + s.Backend, Time: fmt.Sprintf("%.3f", s.Wall)}
		switch s.Status {
		case StatusSkipped:
			c.Skipped = &junitMessage{Message: s.Reason}
		case StatusFailed:
			msg := s.Reason
			if msg == "" {
				msg = strings.Join(s.Failures, "; ")
			}
			text := strings.Join(s.Failures, "\n")
			if s.Artefacts != "" {
				text += "\nartefacts: " + s.Artefacts
			}
			c.Failure = &junitMessage{Message: msg, Text: text}
			c.SystemOut = s.Log
		}
		run.Cases = append(run.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitRun{run}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteFile writes one of the reports to a file (path made absolute in
// the error).
func WriteFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		abs, _ := filepath.Abs(name)
		return fmt.Errorf("%s: %w", abs, err)
	}
	return nil
}
