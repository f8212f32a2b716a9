// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/testcorpus"
)

// TestLabShadowNewpidFuzz: kpatch's shadow-newpid.patch (written for 6.2)
// needs fuzz 2 on the lab's Debian 6.1 tree (kernel/exit.c hunk 2). It is
// refused with fuzz 0 and 1, and with fuzz 2 gives GNU patch -F2's files
// and GNU patch's report of every moved or fuzzed hunk.
func TestLabShadowNewpidFuzz(t *testing.T) {
	suite := testcorpus.KpatchIntegration(t)
	src := labSource(t)
	bin := needGNUPatch(t)
	pf := filepath.Join(suite, "shadow-newpid.patch")
	ps, err := ParseFiles([]string{pf}, &ParseOptions{Tree: src})
	require.NoError(t, err)
	rels := touchedPaths(ps)
	ctx := context.Background()

	for _, fuzz := range []int{0, 1} {
		_, err := Apply(ctx, src, ps, &ApplyOptions{DryRun: true, Fuzz: fuzz})
		require.ErrorIs(t, err, ErrHunkFailed, "fuzz %d", fuzz)
		var he *HunkError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, "kernel/exit.c", he.File)
		assert.Equal(t, 2, he.Hunk)
		assert.Equal(t, 2, he.FitsFuzz, "the error says fuzz 2 would place it")
	}

	ours, theirs := copyFiles(t, src, rels), copyFiles(t, src, rels)
	res, err := Apply(ctx, ours, ps, &ApplyOptions{Fuzz: 2})
	require.NoError(t, err)
	cmd := exec.Command(bin, "-p1", "-F2", "--no-backup-if-mismatch", "-r", "-", "-i", pf)
	cmd.Dir = theirs
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, snapshot(t, theirs), snapshot(t, ours))

	// GNU patch: "patching file F" then "Hunk #N succeeded at L [with fuzz Z] (offset O lines)."
	re := regexp.MustCompile(`(?m)^patching file (\S+)$|^Hunk #(\d+) succeeded at (\d+)(?: with fuzz (\d+))? \(offset (-?\d+) lines?\)\.$`)
	var gnu []string
	file := ""
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		if m[1] != "" {
			file = m[1]
			continue
		}
		fz, _ := strconv.Atoi(m[4])
		gnu = append(gnu, fmt.Sprintf("%s #%s at %s fuzz %d offset %s", file, m[2], m[3], fz, m[5]))
	}
	var mine []string
	for _, p := range res.Inexact() {
		mine = append(mine, fmt.Sprintf("%s #%d at %d fuzz %d offset %d", p.File, p.Hunk, p.NewLine, p.Fuzz, p.Offset))
	}
	assert.Equal(t, gnu, mine, "GNU patch said:\n%s", out)
	fuzzed := res.Fuzzed()
	require.Len(t, fuzzed, 1)
	assert.Equal(t, "kernel/exit.c", fuzzed[0].File)
	assert.Equal(t, 2, fuzzed[0].Hunk)
	t.Logf("%s", fuzzed[0])
}
