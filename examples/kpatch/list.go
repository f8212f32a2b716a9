// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/klpkit/klpkit/kmod"
)

func (a *app) list(args []string) error {
	f, rest, err := a.parse("list", args, func(f *flags) {
		storeFlags(f)
		f.fs.BoolVar(&f.json, "json", false, "JSON output for programs")
	})
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return a.usage()
	}
	l, err := a.sys.List()
	if err != nil {
		return err
	}
	if f.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	writeList(a.stdout, l)
	return nil
}

// writeList prints kpatch's list layout byte for byte: Cockpit splits it on
// blank lines and expects the two headers.
func writeList(w io.Writer, l *kmod.Listing) {
	fmt.Fprintln(w, "Loaded patch modules:")
	for _, lp := range l.Loaded {
		fmt.Fprintf(w, "%s [%s]\n", lp.Name, state(lp))
	}
	writeStalled(w, l.InTransition != "", l.Stalled)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Installed patch modules:")
	for _, in := range l.Installed {
		fmt.Fprintf(w, "%s (%s)\n", in.Name, in.KernelVersion)
	}
}

func state(lp kmod.Livepatch) string {
	switch {
	case lp.Enabled && lp.Transition:
		return "enabling..."
	case lp.Enabled:
		return "enabled"
	case lp.Transition:
		return "disabling..."
	}
	return "disabled"
}
