// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/livepatch"
)

// applyPatches parses and validates the patches against tree (the kernel
// tree, or an out-of-tree module's source) and applies them to the run's
// overlay. vet, when set, sees the parsed patches before validation.
func (r *runner) applyPatches(ctx context.Context, tree string, vet func([]*livepatch.Patch) error) error {
	ps, err := livepatch.ParseFiles(r.opts.Patches, &livepatch.ParseOptions{Tree: tree})
	if err != nil {
		return err
	}
	if vet != nil {
		if err := vet(ps); err != nil {
			return err
		}
	}
	findings, err := livepatch.Validate(ctx, ps, &livepatch.ValidateOptions{Tree: tree, Fuzz: r.opts.Fuzz})
	if err != nil {
		return withFuzzHint(err)
	}
	var refusals []string
	noCode := false
	for _, f := range findings {
		if f.Severity == livepatch.SeverityWarning {
			r.res.Warnings = append(r.res.Warnings, f.String())
		} else {
			refusals = append(refusals, f.String())
			noCode = noCode || f.Rule == livepatch.RuleNoCodeChange
		}
	}
	if noCode && len(refusals) == 1 {
		// Nothing to patch is not an unsupported change: say so as the
		// differ would.
		return fmt.Errorf("%w: %s", ErrNoChanges, refusals[0])
	}
	if len(refusals) > 0 {
		return fmt.Errorf("%w:\n\t%s", ErrUnsupportedPatch, strings.Join(refusals, "\n\t"))
	}
	r.patches = ps
	ovDir := filepath.Join(r.work, "overlay")
	if err := os.RemoveAll(ovDir); err != nil {
		return err
	}
	r.ov, err = makeOverlay(ctx, tree, ovDir, ps, r.opts.Fuzz)
	return err
}

// patchedTree is the directory the patches apply to: the kernel tree, or
// the out-of-tree module's source.
func (r *runner) patchedTree() string {
	if r.oot != nil {
		return r.oot.src
	}
	return r.tree.Dir
}

// objectRoots are the directories the compiled objects' debug
// information names source files under: the kernel tree, or the copy of
// the out-of-tree module's source kbuild built.
func (r *runner) objectRoots() []string {
	if r.oot != nil {
		return treeRoots(r.oot.buildDir)
	}
	return treeRoots(r.tree.Dir)
}
