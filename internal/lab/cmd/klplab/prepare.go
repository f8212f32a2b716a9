// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/klpkit/klpkit/internal/lab"
)

// defaultDir is the directory the make targets use ($KLPKIT_LAB_DIR, ...).
func defaultDir() string { return lab.DirFromEnv(os.Getenv) }

func cmdPrepare(ctx context.Context, args []string, stderr io.Writer) error {
	fs := pflag.NewFlagSet("prepare", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", defaultDir(), "lab cache directory")
	source := fs.Bool("source", true, "also unpack and prepare the matching linux-source tree")
	jobs := fs.Int("jobs", 0, "make -j for the source preparation (default: CPU count)")
	verbose := fs.BoolP("verbose", "v", false, "also show every command run")
	genName := fs.String("generation", string(lab.Bookworm61), "kernel generation: 6.1 (bookworm, host gcc-12), 5.10 (bullseye, gcc-10 in a toolchain root, in DIR/5.10) or 6.1-rt (bookworm's PREEMPT_RT kernel, in DIR/6.1-rt)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	gen, err := lab.ParseGeneration(*genName)
	if err != nil {
		return usageError{err.Error()}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	start := time.Now()
	l, err := lab.Prepare(ctx, lab.Config{
		Dir:        *dir,
		Generation: gen,
		Source:     *source,
		Jobs:       *jobs,
		Logger:     slog.New(&lineHandler{w: stderr, level: level, start: start}),
	})
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, indent(l.String()))
	return nil
}

func cmdInfo(args []string, stdout io.Writer) error {
	fs := pflag.NewFlagSet("info", pflag.ContinueOnError)
	dir := fs.String("dir", defaultDir(), "lab cache directory")
	genName := fs.String("generation", string(lab.Bookworm61), "kernel generation: 6.1, 5.10 or 6.1-rt")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 1 {
		return usageError{"klplab info takes at most one field"}
	}
	gen, err := lab.ParseGeneration(*genName)
	if err != nil {
		return usageError{err.Error()}
	}
	l, err := lab.Open(gen.Dir(*dir))
	if err != nil {
		return err
	}
	if fs.NArg() == 1 {
		v, err := infoField(l, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, v)
		return nil
	}
	fmt.Fprint(stdout, l.String())
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

// lineHandler prints slog records as "[  12s] message key=value" lines.
type lineHandler struct {
	w     io.Writer
	level slog.Level
	start time.Time
	attrs []slog.Attr
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "[%4ds] ", int(time.Since(h.start).Seconds()))
	if r.Level >= slog.LevelWarn {
		b.WriteString("warning: ")
	}
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
