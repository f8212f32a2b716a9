// SPDX-License-Identifier: Apache-2.0

// Package clijson is the machine-readable output of the build CLIs
// (kpatch-build and auto_livepatch): --json prints one Result object on
// stdout when the command ends, --json-events streams progress as JSON lines
// (one Event a line). The library values inside (build.Plan, build.Object,
// build.Event, ...) marshal as their own packages define; this package
// imports none of them (internal helpers sit below the public packages).
package clijson

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Result is the --json object. Lists are never null.
type Result struct {
	// OK is false when the command failed; Error then says why.
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Check: a dry run (auto_livepatch --check); Plan holds what would be
	// built and nothing was written.
	Check bool `json:"check,omitempty"`
	Plan  any  `json:"plan,omitempty"`
	// Kernel is the target's uname -r.
	Kernel string `json:"kernel,omitempty"`
	// Name is the module name; Module and RPM the written files.
	Name   string `json:"name,omitempty"`
	Module string `json:"module,omitempty"`
	RPM    string `json:"rpm,omitempty"`
	// Objects are the translation units compiled ([]build.Object).
	Objects any `json:"objects"`
	// ChangedFunctions are redirected by the module; NewFunctions are new.
	ChangedFunctions []Function `json:"changed_functions"`
	NewFunctions     []Function `json:"new_functions"`
	// Findings are the conditions that did not stop the build.
	Findings []Finding `json:"findings"`
	// Timings are seconds per stage, in the order the stages ran, and in
	// total.
	Timings []Timing `json:"timings"`
	Seconds float64  `json:"seconds"`
}

// Function is a changed or new function and where it lives.
type Function struct {
	Name   string `json:"name"`
	Object string `json:"object"` // tree-relative object, e.g. fs/proc/meminfo.o
	Target string `json:"target"` // vmlinux or the module the object links into
}

// Finding is a condition the build reported.
type Finding struct {
	Severity string `json:"severity"` // "warning"
	Message  string `json:"message"`
}

// Timing is one stage's wall time.
type Timing struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
}

// NewResult returns an empty result (lists empty, not null).
func NewResult() *Result {
	return &Result{Objects: []struct{}{}, ChangedFunctions: []Function{}, NewFunctions: []Function{},
		Findings: []Finding{}, Timings: []Timing{}}
}

// AddFunctions records an object's changed and new functions.
func (r *Result) AddFunctions(object, target string, changed, added []string) {
	for _, f := range changed {
		r.ChangedFunctions = append(r.ChangedFunctions, Function{Name: f, Object: object, Target: target})
	}
	for _, f := range added {
		r.NewFunctions = append(r.NewFunctions, Function{Name: f, Object: object, Target: target})
	}
}

// AddWarnings records warnings as findings.
func (r *Result) AddWarnings(warnings []string) {
	for _, w := range warnings {
		r.Findings = append(r.Findings, Finding{Severity: "warning", Message: w})
	}
}

// Write prints r as one JSON object and a newline.
func (r *Result) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Clock times the stages of a run from its progress events.
type Clock struct {
	mu     sync.Mutex
	now    func() time.Time
	start  time.Time
	stages []Timing
	last   time.Time // when the current stage started
}

// NewClock starts timing now; now is the clock (time.Now).
func NewClock(now func() time.Time) *Clock {
	t := now()
	return &Clock{now: now, start: t, last: t}
}

// Stage notes an event of stage: a stage other than the current one starts
// now and ends the current one.
func (c *Clock) Stage(stage string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.stages); n > 0 && c.stages[n-1].Stage == stage {
		return
	}
	t := c.now()
	c.close(t)
	c.stages = append(c.stages, Timing{Stage: stage})
	c.last = t
}

func (c *Clock) close(t time.Time) {
	if n := len(c.stages); n > 0 {
		c.stages[n-1].Seconds += t.Sub(c.last).Seconds()
	}
}

// Done ends the last stage and records the timings in r.
func (c *Clock) Done(r *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now()
	c.close(t)
	c.last = t
	r.Timings = append(r.Timings[:0], c.stages...)
	r.Seconds = t.Sub(c.start).Seconds()
}

// Event is one --json-events line: when, which part of the run
// (Source: "build", "fetch", "prepare") and the event as its package
// marshals it.
type Event struct {
	Time   time.Time `json:"time"`
	Source string    `json:"source"`
	Event  any       `json:"event"`
}

// Events writes Events as JSON lines; safe for concurrent use.
type Events struct {
	mu  sync.Mutex
	enc *json.Encoder
	now func() time.Time
}

// NewEvents writes to w, stamping events with now.
func NewEvents(w io.Writer, now func() time.Time) *Events {
	return &Events{enc: json.NewEncoder(w), now: now}
}

// Emit writes one event line. Errors writing progress are not the run's
// errors: they are dropped, as a progress display's are.
func (e *Events) Emit(source string, ev any) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_ = e.enc.Encode(Event{Time: e.now().UTC(), Source: source, Event: ev})
}
