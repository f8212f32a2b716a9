// SPDX-License-Identifier: Apache-2.0

package beneath

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree builds parent/{secret,root/...} with the links the cases use.
func tree(t *testing.T) (root, secret string) {
	t.Helper()
	parent := t.TempDir()
	secret = filepath.Join(parent, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("host secret"), 0o600))
	root = filepath.Join(parent, "root")
	for _, d := range []string{"c", "a/b"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "a/b/file"), []byte("inside"), 0o640))
	links := map[string]string{
		"c/d":      "..",                  // the root itself
		"chain":    "c/d/../secret",       // the root's parent: out
		"abs":      secret,                // absolute
		"up":       "../secret",           // plainly out
		"good":     "a/b/file",            // inside
		"good2":    "c/d/a/./b/../b/file", // inside through the root link
		"loop":     "loop",
		"dangling": "nothing",
	}
	for name, target := range links {
		require.NoError(t, os.Symlink(target, filepath.Join(root, name)))
	}
	return root, secret
}

func TestOpen(t *testing.T) {
	root, _ := tree(t)
	tests := []struct {
		name string
		want string // content, or "" with err
		err  error
	}{
		{"a/b/file", "inside", nil},
		{"good", "inside", nil},
		{"good2", "inside", nil},
		{"./a/../a/b/file", "inside", nil},
		{"chain", "", ErrEscapes},
		{"abs", "", ErrEscapes},
		{"up", "", ErrEscapes},
		{"../secret", "", ErrEscapes},
		{"a/../../secret", "", ErrEscapes},
		{"/etc/passwd", "", ErrEscapes},
		{"c/d/chain", "", ErrEscapes},
		{"missing", "", os.ErrNotExist},
		{"dangling", "", os.ErrNotExist},
		{"a/b/file/x", "", nil}, // ENOTDIR: some error, not an escape
	}
	modes := map[string]func(root, name string) (*os.File, error){
		"default": func(root, name string) (*os.File, error) { return open(root, name, false) },
		// What Open is where openat2 and O_PATH do not exist.
		"os.Root": openRoot,
	}
	if runtime.GOOS == "linux" {
		modes["component walk"] = func(root, name string) (*os.File, error) { return open(root, name, true) }
	}
	for mode, opener := range modes {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				f, err := opener(root, tt.name)
				if tt.want == "" {
					require.Error(t, err)
					assert.NotContains(t, err.Error(), "host secret")
					if tt.err != nil {
						assert.True(t, errors.Is(err, tt.err), "got %v", err)
					} else {
						assert.False(t, errors.Is(err, ErrEscapes), "got %v", err)
					}
					return
				}
				require.NoError(t, err)
				defer f.Close()
				data, err := io.ReadAll(f)
				require.NoError(t, err)
				assert.Equal(t, tt.want, string(data))
			})
		}
	}
}

func TestOpenLoop(t *testing.T) {
	root, _ := tree(t)
	for _, force := range []bool{false, true} {
		_, err := open(root, "loop", force)
		require.Error(t, err)
		assert.False(t, errors.Is(err, ErrEscapes))
	}
	_, err := openRoot(root, "loop")
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrEscapes), "a loop is no escape: %v", err)
}

func TestReadFile(t *testing.T) {
	root, _ := tree(t)
	data, mode, err := ReadFile(root, "good", 0)
	require.NoError(t, err)
	assert.Equal(t, "inside", string(data))
	assert.Equal(t, os.FileMode(0o640), mode)

	_, _, err = ReadFile(root, "good", 3)
	assert.ErrorContains(t, err, "larger than 3 bytes")
	_, _, err = ReadFile(root, "a", 0)
	assert.ErrorContains(t, err, "not a regular file")
	_, _, err = ReadFile(root, "chain", 0)
	assert.ErrorIs(t, err, ErrEscapes)
}
