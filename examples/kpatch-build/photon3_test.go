// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/klpkit/klpkit/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPhoton3Replace runs the real build.Run for each Photon 3.0 flavor:
// without -R kpatch-build refuses in kpatch-build's words before building
// anything (it never turns -R on by itself, as kpatch-build does not);
// with -R or --non-replace the build goes past that check.
func TestPhoton3Replace(t *testing.T) {
	const refusal = "ERROR: The kernel doesn't support klp replace.\n" + replaceHint + "\n"
	for _, rel := range []string{"4.19.325-1.ph3", "4.19.325-1.ph3-aws", "4.19.247-rt108-10.ph3-rt"} {
		for _, flag := range []string{"", "-R", "--non-replace"} {
			t.Run(rel+"/"+flag, func(t *testing.T) {
				c := newCLI(t)
				var got *build.Options
				c.a.build = func(ctx context.Context, o build.Options) (*build.Result, error) {
					got = &o
					return build.Run(ctx, o)
				}
				sysmap := filepath.Join(t.TempDir(), "System.map")
				require.NoError(t, os.WriteFile(sysmap, nil, 0o644))
				args := []string{"-s", c.tree, "--system-map", sysmap, "-a", rel, "-o", t.TempDir(), c.patch}
				if flag != "" {
					args = append([]string{flag}, args...)
				}
				err := c.run(args...)
				require.NotNil(t, got)
				assert.Equal(t, flag != "", got.NoReplace)
				if flag == "" {
					require.ErrorIs(t, err, build.ErrReplaceUnsupported)
					assert.Equal(t, refusal, c.err.String())
					assert.Equal(t, "Using source directory at "+c.tree+"\nKernel release "+rel+"\n", c.out.String(), "nothing built")
					return
				}
				// The stand-in tree cannot build: what matters is that
				// the replace check let it through.
				require.Error(t, err)
				assert.False(t, errors.Is(err, build.ErrReplaceUnsupported), "%v", err)
				assert.NotContains(t, c.err.String(), "klp replace")
				assert.Contains(t, c.err.String(), "checking kernel "+rel, "the build reached its check stage")
			})
		}
	}
}
