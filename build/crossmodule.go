// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"debug/elf"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/modname"
)

// References from code patched into a module to another module's export
// (nfsd calling sunrpc's cache_check) are klp relocations, as kpatch makes
// them: the symbol is .klp.sym.<exporting module>.<name>,0 and the
// relocation goes to .klp.rela.<patched module>.<section>. The livepatch
// core applies a .klp.rela.<obj> section when <obj> is a patched object
// that is loaded (klp_apply_object_relocs), looking each symbol up by
// kallsyms in the module its name gives (klp_resolve_symbols; from 5.8 it
// refuses only vmlinux symbols in a module's section). The patched module
// depends on the exporter when its original code already used it, so the
// exporter is loaded whenever the relocation is written. A normal
// relocation instead would make the livepatch module itself depend on the
// exporter: it could not load before it ("Unknown symbol") and would pin
// it.

// moduleExporting returns the kernel's name of the module that exports
// name by Module.symvers ("" for vmlinux's exports and for symbols no one
// exports). The column is the module's path in the tree, without .ko.
func (r *runner) moduleExporting(name string) string {
	owner, ok := r.symvers[name]
	if !ok || owner == "vmlinux" {
		return ""
	}
	return modname.Kernel(strings.TrimSuffix(filepath.Base(owner), ".ko"))
}

// checkCrossDepends warns when the patched code of u calls an export of
// module owner that u's target does not already depend on: the livepatch
// core resolves the reference when the target loads, and fails that load
// unless owner is loaded before it.
func (r *runner) checkCrossDepends(u *unit, owner, symbol string) {
	ko := r.findModule(u.target)
	if ko == "" {
		return // no .ko to read: resolve has warned or refused already
	}
	deps, err := moduleDepends(ko)
	if err != nil {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("%s: cannot tell whether module %s depends on %s, whose export %s the patch calls: %v", u.obj, u.target, owner, symbol, err))
		return
	}
	if !slices.Contains(deps, owner) {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("%s: the patch calls %s's export %s, which module %s (%s) does not use: while the livepatch is applied, %s loads only if %s is loaded first", u.obj, owner, symbol, u.target, ko, u.target, owner))
	}
}

// moduleDepends returns the module names of the depends= entry of a
// module's .modinfo.
func moduleDepends(ko string) ([]string, error) {
	f, err := elf.Open(ko)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil || sec.Type == elf.SHT_NOBITS { // NOBITS: a debuginfo copy
		return nil, fmt.Errorf("%s: no .modinfo contents", ko)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: .modinfo: %w", ko, err)
	}
	var deps []string
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok && len(v) > 0 {
			for _, d := range strings.Split(string(v), ",") {
				deps = append(deps, modname.Kernel(d))
			}
		}
	}
	return deps, nil
}
