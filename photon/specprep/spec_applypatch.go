// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"sort"
	"strconv"
	"strings"
)

// Photon 3.0's specs (mid 2022 to early 2023, the first livepatchable 3.0
// kernels) apply patches with a shell helper pulled into %prep:
// "%include ApplyPatch.inc", then "ApplyPatch FIRST LAST", which applies the
// spec's "PatchN:" lines (read with grep, so regardless of conditionals)
// with FIRST <= N <= LAST, in order, with patch -p1 --fuzz=0.

// isApplyPatchHelper recognises that helper: it defines ApplyPatch() and
// reads the spec's PatchN lines.
func isApplyPatchHelper(script string) bool {
	return strings.Contains(script, "ApplyPatch()") && strings.Contains(script, "^Patch[0-9]+:")
}

// include handles %include in %prep at run time: the ApplyPatch helper is
// enabled here; config edits and checks are applied later by
// ApplyConfigIncludes, which also refuses anything else.
func (r *prepRunner) include(l SpecLine, file string) error {
	p, err := r.inside(l, file)
	if err != nil {
		return err
	}
	data, _, err := r.readInside(l, p)
	if err != nil {
		return err
	}
	if isApplyPatchHelper(string(data)) {
		r.applyPatchHelper = true
	}
	return nil
}

func (r *prepRunner) applyPatchRange(l SpecLine, args []string) error {
	if len(args) != 2 {
		return r.fail(l, "ApplyPatch needs FIRST and LAST patch numbers")
	}
	first, err1 := strconv.Atoi(args[0])
	last, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || first < 0 || last < 0 {
		return r.fail(l, "ApplyPatch %q %q: not patch numbers", args[0], args[1])
	}
	var nums []int
	for n := range r.spec.RawPatches {
		if n >= first && n <= last {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		if err := r.runPatch(l, n, r.spec.RawPatches[n], patchOptions{strip: 1}); err != nil {
			return err
		}
	}
	return nil
}
