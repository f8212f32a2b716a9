// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/kver"
)

func writeVersionHeader(t *testing.T, dir, body string) {
	t.Helper()
	p := filepath.Join(dir, "include", "generated", "uapi", "linux", "version.h")
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
}

func TestHeadersVersion(t *testing.T) {
	for body, want := range map[string]kver.Version{
		"#define LINUX_VERSION_CODE 267263\n#define KERNEL_VERSION(a,b,c) ...\n": {Major: 4, Minor: 19}, // 4.19.325, patch clamped to 255
		"#define LINUX_VERSION_CODE 393664\n":                                    {Major: 6, Minor: 1},
	} {
		dir := t.TempDir()
		writeVersionHeader(t, dir, body)
		v, ok := headersVersion(dir)
		assert.True(t, ok, body)
		assert.Equal(t, want, v, body)
	}
	for _, bad := range []string{"", "#define LINUX_VERSION_CODE\n", "#define LINUX_VERSION_CODE x\n", "#define LINUX_VERSION_CODE 255\n", "#define LINUX_VERSION_CODE -1\n"} {
		dir := t.TempDir()
		writeVersionHeader(t, dir, bad)
		_, ok := headersVersion(dir)
		assert.False(t, ok, bad)
	}
	_, ok := headersVersion(t.TempDir())
	assert.False(t, ok, "no header")
}

// TestRunRefusesReplaceBefore51: a replace build for a 4.19 kernel stops
// before any stage starts and before the work directory exists; a
// non-replace one, and a replace one for 5.1 or later, go on.
func TestRunRefusesReplaceBefore51(t *testing.T) {
	header419 := "#define LINUX_VERSION_CODE 267263\n"
	for _, tc := range []struct {
		name      string
		release   string
		header    string // the kbuild tree's version.h, if any
		noReplace bool
		refused   bool
	}{
		{"photon 3.0 replace", "4.19.325-1.ph3", "", false, true},
		{"5.0 replace", "5.0.21", "", false, true},
		{"photon 3.0 non-replace", "4.19.325-1.ph3", "", true, false},
		{"5.1 replace", "5.1.0", "", false, false},
		{"photon 5.0 replace", "6.1.192-1.ph5", "", false, false},
		{"odd release, 4.19 headers", "custom", header419, false, true},
		{"odd release, 4.19 headers, non-replace", "custom", header419, true, false},
		{"odd release, no headers", "custom", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeTree(t, "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
			if tc.header != "" {
				writeVersionHeader(t, dir, tc.header)
			}
			work := filepath.Join(t.TempDir(), "work")
			out := t.TempDir()
			var stages []Stage
			_, err := Run(context.Background(), Options{
				Source:  &Tree{Release: tc.release, Dir: dir, SystemMap: filepath.Join(dir, "System.map"), MakeArgs: []string{"CC=true"}},
				Patches: []string{writePatch(t, fakePatch)}, OutputDir: out, WorkDir: work, NoReplace: tc.noReplace,
				Progress: klpkit.On(func(e Event) { stages = append(stages, e.Stage) }),
			})
			require.Error(t, err, "the fake tree never builds")
			if !tc.refused {
				assert.False(t, errors.Is(err, ErrReplaceUnsupported), "%v", err)
				assert.Contains(t, stages, StageCheck, "went past the options")
				return
			}
			require.ErrorIs(t, err, ErrReplaceUnsupported)
			assert.Contains(t, err.Error(), "kernel "+tc.release+" (Linux ")
			assert.Contains(t, err.Error(), "the kernel doesn't support klp replace: atomic replace needs Linux 5.1 or later")
			assert.Contains(t, err.Error(), "NoReplace")
			assert.Contains(t, err.Error(), "-R/--non-replace")
			assert.Empty(t, stages, "refused before any stage")
			assert.NoDirExists(t, work, "refused before the work directory was made")
			entries, _ := os.ReadDir(out)
			assert.Empty(t, entries, "no output")
		})
	}
}

// FuzzVersionCode: a version.h from a tree is untrusted input.
func FuzzVersionCode(f *testing.F) {
	f.Add([]byte("#define LINUX_VERSION_CODE 267263\n"))
	f.Add([]byte("#define LINUX_VERSION_CODE 99999999999\n"))
	f.Add([]byte("#define\tLINUX_VERSION_CODE\t393664\r\n"))
	f.Fuzz(func(t *testing.T, header []byte) {
		if v, ok := versionCode(header); ok && (v.Major <= 0 || v.Major > 255 || v.Minor < 0 || v.Minor > 255) {
			t.Fatalf("%q read as %v", header, v)
		}
	})
}
