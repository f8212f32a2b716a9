// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/modname"
)

// CRCChange is one export whose symbol version a patch changes.
type CRCChange struct {
	Symbol string `json:"symbol"`
	Old    uint32 `json:"old"` // the kernel's CRC (Module.symvers, equal to the original object's)
	New    uint32 `json:"new"` // the patched object's CRC
}

// ExportVersionError refuses a patched object that changes the symbol
// versions (CONFIG_MODVERSIONS CRCs) of its exports. The CRC covers every
// type an export's prototype reaches, as the kernel's CRC generator sees
// them; a change means modules built for the running kernel and the
// patched code would disagree on that ABI (or, for a header that only
// completes a type, that the check can no longer tell). It matches
// ErrExportVersionChanged and ErrUnsupportedPatch.
type ExportVersionError struct {
	Object  string      `json:"object"`  // tree-relative object, e.g. drivers/base/core.o
	Changes []CRCChange `json:"changes"` // sorted by symbol
}

// maxListed bounds how many symbols an error message lists.
const maxListed = 8

func (e *ExportVersionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s ", e.Object, ErrExportVersionChanged)
	for i, c := range e.Changes {
		if i == maxListed {
			var rest []string
			for _, c := range e.Changes[i:] {
				rest = append(rest, c.Symbol)
			}
			fmt.Fprintf(&b, " and %d more (%s)", len(rest), strings.Join(rest, ", "))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (CRC 0x%08x in the kernel, 0x%08x patched)", c.Symbol, c.Old, c.New)
	}
	b.WriteString(": the patch changes a type that the prototype of an exported symbol reaches, as the kernel's" +
		" symbol versioning sees it, and modules built for this kernel expect the old one. Keep the types and the" +
		" headers visible to exported prototypes unchanged: add no #include to this file (copy the definition the" +
		" new code needs into it instead), or, when the change is not a real ABI change (a header that only" +
		" completes a type declared before), hide it from the CRC generator with #ifndef __GENKSYMS__ ... #endif" +
		" (genksyms kernels); see \"Exported symbol versioning\" in kpatch's patch author guide")
	return b.String()
}

func (e *ExportVersionError) Unwrap() []error {
	return []error{ErrExportVersionChanged, ErrUnsupportedPatch}
}

// kernelCRC is one export of Module.symvers.
type kernelCRC struct {
	crc    uint32
	module string // "vmlinux" or the module's path without .ko
}

// parseSymversCRCs reads the CRCs of Module.symvers (crc, symbol, module,
// export type and namespace, tab-separated).
func parseSymversCRCs(data []byte) (map[string]kernelCRC, error) {
	out := map[string]kernelCRC{}
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 4 || f[1] == "" {
			return nil, fmt.Errorf("line %d: want crc, symbol, module, export type", n+1)
		}
		crc, err := parseCRC(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: bad CRC %q", n+1, f[0])
		}
		out[f[1]] = kernelCRC{crc: crc, module: f[2]}
	}
	return out, nil
}

// sameTarget reports whether Module.symvers' module column names target
// ("vmlinux" or a module name with '_' for '-').
func sameTarget(column, target string) bool {
	return modname.Kernel(path.Base(column)) == target
}

// compareCRCs checks one unit's symbol versions. First the original side
// against the kernel: if the unpatched source gives an export another CRC
// than Module.symvers, the tree (or config, or compiler) is not the
// kernel's and no verdict on the patch would mean anything. Then the
// patched side against the original. Exports the kernel does not list
// (trimmed, or another object's) and exports the patch adds or removes
// (the differ rules on those) are left out.
func compareCRCs(obj, target, symversPath string, crcs *unitCRCs, kernel map[string]kernelCRC) error {
	var mismatch []string
	for _, name := range slices.Sorted(maps.Keys(crcs.orig)) {
		k, ok := kernel[name]
		if !ok || !sameTarget(k.module, target) {
			continue
		}
		if k.crc != crcs.orig[name] {
			mismatch = append(mismatch, fmt.Sprintf("%s: 0x%08x computed, 0x%08x in Module.symvers", name, crcs.orig[name], k.crc))
		}
	}
	if len(mismatch) > 0 {
		more := ""
		if len(mismatch) > maxListed {
			more = fmt.Sprintf(" and %d more", len(mismatch)-maxListed)
			mismatch = mismatch[:maxListed]
		}
		return fmt.Errorf("%s: the unpatched object's exports get other symbol versions than the kernel's %s (%s%s): %w:"+
			" its sources, config or compiler differ from the kernel's, so whether the patch changes an exported ABI cannot be checked",
			obj, symversPath, strings.Join(mismatch, "; "), more, ErrTreeMismatch)
	}
	var changes []CRCChange
	for _, name := range slices.Sorted(maps.Keys(crcs.patched)) {
		old, ok := crcs.orig[name]
		if !ok {
			continue
		}
		if k, ok := kernel[name]; ok && sameTarget(k.module, target) {
			old = k.crc // equal, checked above; the kernel's is the truth
		}
		if n := crcs.patched[name]; n != old {
			changes = append(changes, CRCChange{Symbol: name, Old: old, New: n})
		}
	}
	if len(changes) > 0 {
		return &ExportVersionError{Object: obj, Changes: changes}
	}
	return nil
}

// checkExports refuses patched objects that change the symbol versions of
// their exports (see startCRCs for how they are computed). It reads
// Module.symvers only when some object exports.
func (r *runner) checkExports(ctx context.Context) error {
	var units []*unit
	for _, u := range r.objs {
		if u.crcs != nil && len(u.crcs.orig)+len(u.crcs.patched) > 0 {
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		return ctx.Err()
	}
	data, err := os.ReadFile(r.tree.ModuleSymvers)
	if err != nil {
		return fmt.Errorf("module symvers: %w", err)
	}
	kernel, err := parseSymversCRCs(data)
	if err != nil {
		return fmt.Errorf("module symvers %s: %w", r.tree.ModuleSymvers, err)
	}
	var errs []error
	for _, u := range units {
		if err := compareCRCs(u.obj, u.target, r.tree.ModuleSymvers, u.crcs, kernel); err != nil {
			errs = append(errs, err)
			continue
		}
		r.log.Debug("symbol versions unchanged", "object", u.obj, "exports", len(u.crcs.orig))
	}
	return errors.Join(errs...)
}
