// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"fmt"
	"time"

	"github.com/klpkit/klpkit"
)

// EventKind says what a progress Event reports.
type EventKind int

// Progress events, in the order a load or unload emits them.
const (
	EventLoading      EventKind = iota // about to load Module (Path set)
	EventBusyRetry                     // EBUSY; retrying after a pause (Attempt set)
	EventWaiting                       // waiting for Module's transition
	EventSignalled                     // SignalAfter passed: fake signals sent to stalled tasks, or Automatic
	EventTransition                    // transition done (Elapsed set)
	EventStalled                       // transition stalled (Tasks set)
	EventReverting                     // unloading after a stall
	EventDisabling                     // writing 0 to enabled
	EventUnloading                     // delete_module
	EventRetired                       // an older patch was unloaded (Module)
	EventHandover                      // before 5.1: Module goes down so that older patches can be retired
	EventEnabling                      // writing 1 to enabled (a handover bringing a patch back)
	EventHandoverDone                  // the handover is over (Elapsed: how long Module was down)
)

// Event is one step of a load or unload, for progress output.
type Event struct {
	Kind    EventKind     `json:"kind"`
	Module  string        `json:"module"`
	Path    string        `json:"path"`
	Attempt int           `json:"attempt"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Tasks   []Task        `json:"tasks"`
	// Automatic, on EventSignalled: the kernel signals stalled tasks by
	// itself (5.1 and later, no signal file), so kmod sent none.
	Automatic bool `json:"automatic"`
}

// Timing holds the waits and retries of loads and unloads. Zero fields take
// kpatch's values.
type Timing struct {
	// BusyRetries is how many times EBUSY is retried after the first attempt
	// (default 4: five attempts, kpatch's MAX_LOAD_ATTEMPTS); negative means
	// no retry.
	BusyRetries int
	// BusyInterval is the pause between attempts (default 2s).
	BusyInterval time.Duration
	// SignalAfter is how long a transition may take before stalled tasks are
	// signalled where the kernel supports it (default 15s).
	SignalAfter time.Duration
	// TransitionTimeout bounds a transition (default 75s, kpatch's 15 + 60);
	// the context's deadline may end it sooner.
	TransitionTimeout time.Duration
	// RefTimeout bounds the wait for the module's refcnt to reach 0
	// (default 15s).
	RefTimeout time.Duration
	// RevertTimeout bounds the settling after a stall or a cancel, as a
	// whole and each transition in it: reverting a load, enabling again or
	// finishing an unload, finishing a retire. It runs even when the
	// context is done, so it is how long Ctrl-C may take (default 30s).
	RevertTimeout time.Duration
}

// WithDefaults returns t (nil allowed) with zero fields set to their defaults.
func (t *Timing) WithDefaults() Timing {
	var v Timing
	if t != nil {
		v = *t
	}
	def := func(d *time.Duration, val time.Duration) {
		if *d <= 0 {
			*d = val
		}
	}
	switch {
	case v.BusyRetries == 0:
		v.BusyRetries = 4
	case v.BusyRetries < 0:
		v.BusyRetries = 0
	}
	def(&v.BusyInterval, 2*time.Second)
	def(&v.SignalAfter, 15*time.Second)
	def(&v.TransitionTimeout, 75*time.Second)
	def(&v.RefTimeout, 15*time.Second)
	def(&v.RevertTimeout, 30*time.Second)
	return v
}

// progress is ev as a report of op.
func (ev Event) progress(op klpkit.Op) klpkit.Progress {
	msg := ev.Kind.String() + " " + ev.Module
	switch {
	case ev.Kind == EventLoading:
		msg = "loading " + ev.Path
	case ev.Kind == EventBusyRetry:
		msg = fmt.Sprintf("%s is busy: attempt %d", ev.Module, ev.Attempt+1)
	case ev.Elapsed > 0:
		msg += " after " + ev.Elapsed.Round(time.Millisecond).String()
	case len(ev.Tasks) > 0:
		msg += fmt.Sprintf(": %d task(s) not switched", len(ev.Tasks))
	}
	return klpkit.Progress{Op: op, Step: ev.Kind.String(), Subject: ev.Module, Message: msg, Detail: ev}
}
