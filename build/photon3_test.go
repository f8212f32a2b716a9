// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// photon3Source is a Photon kernel that knows its release
// (Capabilities.Release) and whose Tree is never prepared: it records that
// it was asked.
type photon3Source struct {
	release string
	asked   bool
}

var errPrepared = errors.New("the tree was prepared")

func (s *photon3Source) Capabilities() Capabilities { return Capabilities{Release: s.release} }

func (s *photon3Source) Tree(context.Context) (*Tree, error) {
	s.asked = true
	return nil, errPrepared
}

// TestPhoton3ReplaceOptions: for every Photon 3.0 flavor (4.19, no atomic
// replace), Run and Check refuse a replace module from the release alone,
// before a kernel is fetched or prepared, and let a non-replace one
// through; Photon 4.0 and 5.0 kernels take either.
func TestPhoton3ReplaceOptions(t *testing.T) {
	entries := map[string]func(context.Context, Options) error{
		"Run":   func(ctx context.Context, o Options) error { _, err := Run(ctx, o); return err },
		"Check": func(ctx context.Context, o Options) error { _, err := Check(ctx, o); return err },
	}
	for _, tc := range []struct {
		release string
		refused bool // a replace module
	}{
		{"4.19.325-1.ph3", true},
		{"4.19.325-1.ph3-aws", true},
		{"4.19.247-rt108-10.ph3-rt", true},
		{"4.19.247-11.ph3-rt", true},
		{"4.19.325-1.ph3-secure", true},
		{"5.10.118-3.ph4", false},
		{"6.1.83-5.ph5-rt", false},
	} {
		for entry, call := range entries {
			for _, noReplace := range []bool{false, true} {
				name := entry + "/" + tc.release + "/replace"
				if noReplace {
					name = entry + "/" + tc.release + "/non-replace"
				}
				t.Run(name, func(t *testing.T) {
					src := &photon3Source{release: tc.release}
					work := filepath.Join(t.TempDir(), "work")
					err := call(t.Context(), Options{Source: src, Patches: []string{writePatch(t, fakePatch)},
						OutputDir: t.TempDir(), WorkDir: work, NoReplace: noReplace})
					if tc.refused && !noReplace {
						require.ErrorIs(t, err, ErrReplaceUnsupported)
						assert.Contains(t, err.Error(), "kernel "+tc.release+" (Linux 4.19): the kernel doesn't support klp replace")
						assert.False(t, src.asked, "refused before the kernel was fetched")
						assert.NoDirExists(t, work)
						return
					}
					require.ErrorIs(t, err, errPrepared, "went on to the kernel tree")
					assert.True(t, src.asked)
				})
			}
		}
	}
}
