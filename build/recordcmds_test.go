// SPDX-License-Identifier: Apache-2.0

package build

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Objects without kbuild records are made in one make run with -j.
func TestRecordCommandsOneMake(t *testing.T) {
	tree, bin := t.TempDir(), t.TempDir()
	for _, f := range []string{"fs/a.c", "fs/b.c", "fs/c.c", "fs/.c.o.cmd"} {
		require.NoError(t, os.MkdirAll(filepath.Join(tree, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(tree, f), nil, 0o644))
	}
	log := filepath.Join(t.TempDir(), "make.log")
	require.NoError(t, os.WriteFile(filepath.Join(bin, "make"), []byte("#!/bin/sh\necho \"$@\" >> "+log+"\n"), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	r := &runner{tree: Tree{Dir: tree, MakeArgs: []string{"CC=gcc-12"}}, opts: Options{Jobs: 3}, log: slog.New(slog.DiscardHandler)}
	for _, o := range []string{"fs/a.o", "fs/b.o", "fs/c.o", "fs/gone.o"} {
		r.objs = append(r.objs, &unit{obj: o})
	}
	require.NoError(t, r.recordCommands(t.Context()))
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, "CC=gcc-12 -j3 fs/a.o fs/b.o\n", string(data), "fs/c.o has its record, fs/gone.c does not exist")

	// One object alone is left to the per-object run.
	r.objs = r.objs[:1]
	require.NoError(t, os.Remove(log))
	require.NoError(t, r.recordCommands(t.Context()))
	assert.NoFileExists(t, log)
}
