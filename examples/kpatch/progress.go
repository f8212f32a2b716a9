// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/kmod"
)

// progress prints kmod events the way kpatch prints its steps (stdout).
func (a *app) progress(timing kmod.Timing) klpkit.ProgressFunc {
	waited := false
	return klpkit.On(func(ev kmod.Event) {
		w := a.stdout
		switch ev.Kind {
		case kmod.EventLoading:
			fmt.Fprintf(w, "loading patch module: %s\n", ev.Path)
		case kmod.EventBusyRetry:
			fmt.Fprintf(w, "module %s busy, retrying in %v (attempt %d of %d)\n", ev.Module, timing.BusyInterval, ev.Attempt+1, timing.BusyRetries+1)
		case kmod.EventWaiting:
			waited = true
			fmt.Fprintf(w, "waiting (up to %d seconds) for patch transition to complete...\n", seconds(timing.TransitionTimeout))
		case kmod.EventSignalled:
			fmt.Fprintln(w, "patch transition has stalled!")
			if ev.Automatic {
				fmt.Fprintln(a.stderr, "kpatch: Livepatch process signaling is performed automatically on your system.")
				fmt.Fprintln(a.stderr, "kpatch: Skipping manual process signaling.")
			} else {
				fmt.Fprintln(w, "signaling stalled process(es):")
			}
			fmt.Fprintf(w, "waiting (up to %d seconds) for patch transition to complete...\n", seconds(timing.TransitionTimeout-timing.SignalAfter))
		case kmod.EventTransition:
			if waited {
				fmt.Fprintf(w, "transition complete (%d seconds)\n", seconds(ev.Elapsed))
			}
		case kmod.EventStalled:
			writeStalled(w, true, ev.Tasks)
		case kmod.EventReverting:
			fmt.Fprintf(w, "module %s did not complete its transition, unloading...\n", ev.Module)
		case kmod.EventDisabling:
			fmt.Fprintf(w, "disabling patch module: %s\n", ev.Module)
		case kmod.EventUnloading:
			fmt.Fprintf(w, "unloading patch module: %s\n", ev.Module)
		case kmod.EventRetired:
			fmt.Fprintf(w, "retired older patch module: %s\n", ev.Module)
		case kmod.EventHandover:
			fmt.Fprintf(w, "kernel before 5.1: taking %s down to retire the patch modules below it\n", ev.Module)
		case kmod.EventEnabling:
			fmt.Fprintf(w, "enabling patch module: %s\n", ev.Module)
		case kmod.EventHandoverDone:
			fmt.Fprintf(w, "%s is live again after %s\n", ev.Module, ev.Elapsed.Round(time.Millisecond))
		}
	})
}

// writeStalled prints kpatch's stalled-process report: while a patch is in
// transition, a blank line and the header even if no task is listed, then
// per task "<tid> <comm>", "stack:" and the stack (a blank line when
// unreadable), in the order of kpatch's /proc/[0-9]*/task/[0-9]* glob.
func writeStalled(w io.Writer, inTransition bool, tasks []kmod.Task) {
	if !inTransition {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Stalled processes:")
	sorted := append([]kmod.Task(nil), tasks...)
	sort.SliceStable(sorted, func(i, j int) bool {
		pi, pj := strconv.Itoa(sorted[i].PID), strconv.Itoa(sorted[j].PID)
		if pi != pj {
			return pi < pj
		}
		return strconv.Itoa(sorted[i].TID) < strconv.Itoa(sorted[j].TID)
	})
	for _, t := range sorted {
		fmt.Fprintf(w, "%d %s\n", t.TID, t.Comm)
		fmt.Fprintln(w, "stack:")
		fmt.Fprintln(w, strings.TrimRight(t.Stack, "\n"))
	}
}
