// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/version"
)

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out, errOut bytes.Buffer
		require.NoError(t, run(context.Background(), []string{arg}, &out, &errOut), arg)
		assert.Equal(t, "klpkit devel\n", out.String(), "%s: a test binary has no VCS stamps", arg)
		assert.Equal(t, version.Line()+"\n", out.String())
	}
}

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	var u usageError
	require.True(t, errors.As(run(context.Background(), nil, &out, &errOut), &u))
	require.True(t, errors.As(run(context.Background(), []string{"frobnicate"}, &out, &errOut), &u))
	require.True(t, errors.As(run(context.Background(), []string{"prepare", "--no-such-flag"}, &out, &errOut), &u))
	require.True(t, errors.As(run(context.Background(), []string{"prepare", "--generation", "4.19"}, &out, &errOut), &u))
	require.True(t, errors.As(run(context.Background(), []string{"info", "--generation", "5.1"}, &out, &errOut), &u))
	require.NoError(t, run(context.Background(), []string{"help"}, &out, &errOut))
	require.Contains(t, out.String(), "klplab prepare")
}

func TestInfoWithoutLab(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"info", "--dir", t.TempDir()}, &out, &out)
	require.ErrorIs(t, err, lab.ErrNotPrepared)
	err = run(context.Background(), []string{"info", "--dir", t.TempDir(), "--generation", "5.10"}, &out, &out)
	require.ErrorIs(t, err, lab.ErrNotPrepared)
	err = run(context.Background(), []string{"demo", "--dir", filepath.Join(t.TempDir(), "none")}, &out, &out)
	require.ErrorIs(t, err, lab.ErrNotPrepared)
}

func TestGuestRefusesOnHost(t *testing.T) {
	err := run(context.Background(), []string{guestCommand}, &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "the guest command only runs as /init of the demo VM")
}

func TestConsoleLines(t *testing.T) {
	var out bytes.Buffer
	c := &consoleLines{w: &out, prefix: "vm| "}
	c.Write([]byte("\x1bc\x1b[2Jfirst\r\nsec"))
	c.Write([]byte("ond\r\n\r\nthird"))
	c.flush()
	require.Equal(t, "vm| first\nvm| second\nvm| third\n", out.String())
}

func TestLineHandler(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(&lineHandler{w: &out, level: slog.LevelInfo, start: time.Now()})
	log.Debug("hidden")
	log.With("release", "6.1.0-56-amd64").Info("downloading", "package", "linux-image")
	require.Equal(t, "[   0s] downloading release=6.1.0-56-amd64 package=linux-image\n", out.String())
	require.False(t, strings.Contains(out.String(), "hidden"))
	out.Reset()
	log.Warn("config differs")
	require.Equal(t, "[   0s] warning: config differs\n", out.String())
}

func TestInfoField(t *testing.T) {
	l := &lab.Lab{Dir: "/lab", KernelRelease: "6.1.0-57-amd64", SourceDir: "/lab/6.1.0-57-amd64/source", HeadersDir: "/lib/modules/6.1.0-57-amd64/build"}
	for name, want := range map[string]string{"release": l.KernelRelease, "source": l.SourceDir, "headers": l.HeadersDir} {
		got, err := infoField(l, name)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := infoField(l, "kernel")
	var u usageError
	require.ErrorAs(t, err, &u)
	require.Contains(t, err.Error(), "release")
	_, err = infoField(l, "modules")
	require.ErrorContains(t, err, "no modules")

	var out bytes.Buffer
	require.ErrorAs(t, run(context.Background(), []string{"info", "release", "source"}, &out, &out), &u)
}
