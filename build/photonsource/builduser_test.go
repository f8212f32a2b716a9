// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonsource_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource/photonsourcetest"
	"github.com/klpkit/klpkit/internal/needtest"
)

// As root, make runs in the prepared tree (code from the source RPM) as
// the build user, who is given the tree; building as root is an explicit
// choice. The tree lies under t.TempDir, which only root may enter.
func TestMakeRunsAsBuildUser(t *testing.T) {
	if os.Geteuid() != 0 {
		needtest.Missing(t, "needs root: it checks that make does not run as root")
	}
	nobody, err := build.DefaultBuildUser(t.TempDir())
	require.NoError(t, err)
	repo := photonsourcetest.NewRepo(t, kernel)
	url := repo.Serve(t)
	for _, tc := range []struct {
		name    string
		user    *build.BuildUser
		asRoot  bool
		wantUID uint32
	}{
		{name: "default", wantUID: nobody.UID},
		{name: "chosen user", user: &build.BuildUser{UID: 4242, GID: 4243}, wantUID: 4242},
		{name: "as root", asRoot: true, wantUID: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(t, url)
			src.BuildUser, src.BuildAsRoot = tc.user, tc.asRoot
			tree, err := src.Tree(t.Context())
			require.NoError(t, err)
			data, err := os.ReadFile(filepath.Join(tree.Dir, "make.uid"))
			require.NoError(t, err)
			uids := strings.Fields(string(data))
			require.NotEmpty(t, uids)
			for _, uid := range uids {
				assert.Equal(t, strconv.FormatUint(uint64(tc.wantUID), 10), uid)
			}
			for _, f := range []string{tree.Dir, filepath.Join(tree.Dir, "Makefile"), filepath.Join(tree.Dir, "Module.symvers")} {
				st, err := os.Lstat(f)
				require.NoError(t, err)
				assert.Equal(t, tc.wantUID, st.Sys().(*syscall.Stat_t).Uid, "owner of %s", f)
			}
		})
	}
}
