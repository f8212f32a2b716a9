package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReleaseVersion(t *testing.T) {
	for release, want := range map[string]kernelVersion{
		"4.19.325-1.ph3":           {4, 19},
		"4.19.247-rt108-10.ph3-rt": {4, 19},
		"5.0.21":                   {5, 0},
		"5.1":                      {5, 1},
		"5.10.118-2.ph4":           {5, 10},
		"6.1.0-56-amd64":           {6, 1},
		"6.1.192-1.ph5":            {6, 1},
	} {
		v, ok := releaseVersion(release)
		assert.True(t, ok, release)
		assert.Equal(t, want, v, release)
	}
	for _, bad := range []string{"", "r", "6", "6.", ".1", "x.1", "6.x", "-1.2", "0.9", "999.1", "6.999", "1.001", "+4.19", "04.19", "4.+19"} {
		_, ok := releaseVersion(bad)
		assert.False(t, ok, bad)
	}
}

func writeVersionHeader(t *testing.T, dir, body string) {
	t.Helper()
	p := filepath.Join(dir, "include", "generated", "uapi", "linux", "version.h")
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
}

func TestHeadersVersion(t *testing.T) {
	for body, want := range map[string]kernelVersion{
		"#define LINUX_VERSION_CODE 267263\n#define KERNEL_VERSION(a,b,c) ...\n": {4, 19}, // 4.19.325, patch clamped to 255
		"#define LINUX_VERSION_CODE 393664\n":                                    {6, 1},
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
				Progress: func(e Event) { stages = append(stages, e.Stage) },
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

// FuzzReleaseVersion: release strings come from users and vmlinux
// banners; the reader never panics and only accepts a leading
// <major>.<minor>.
func FuzzReleaseVersion(f *testing.F) {
	for _, s := range []string{"4.19.325-1.ph3", "6.1.0-56-amd64", "5.1", "r", "6.", "99999999999999999999.1", "1.001", "+4.19"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, release string) {
		v, ok := releaseVersion(release)
		if ok && (v.major <= 0 || v.minor < 0 || !strings.HasPrefix(release, v.String())) {
			t.Fatalf("%q read as %v", release, v)
		}
	})
}

// FuzzVersionCode: a version.h from a tree is untrusted input.
func FuzzVersionCode(f *testing.F) {
	f.Add([]byte("#define LINUX_VERSION_CODE 267263\n"))
	f.Add([]byte("#define LINUX_VERSION_CODE 99999999999\n"))
	f.Add([]byte("#define\tLINUX_VERSION_CODE\t393664\r\n"))
	f.Fuzz(func(t *testing.T, header []byte) {
		if v, ok := versionCode(header); ok && (v.major <= 0 || v.major > 255 || v.minor < 0 || v.minor > 255) {
			t.Fatalf("%q read as %v", header, v)
		}
	})
}
