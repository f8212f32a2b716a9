// SPDX-License-Identifier: Apache-2.0

package livepatch

import "strings"

// addedTypes names the struct, union and enum definitions that the patch
// adds entirely: every code line of the definition on the new side is an
// added line, and no type of that name is defined on the old side (a
// moved or rewritten definition is a change, not an addition). Such a
// type cannot change the layout of anything the running kernel holds.
func addedTypes(views []hunkView, lines []changedLine) map[string]bool {
	added := map[*sideView]map[int]bool{}
	for _, cl := range lines {
		if cl.kind != '+' {
			continue
		}
		if added[cl.view] == nil {
			added[cl.view] = map[int]bool{}
		}
		added[cl.view][cl.idx] = true
	}
	oldTypes := itemNames(views, itemType)
	out := map[string]bool{}
	seen := map[*sideView]bool{}
	for _, hv := range views {
		v := hv.new
		if seen[v] {
			continue // whole-file views are shared by every hunk
		}
		seen[v] = true
		for _, it := range v.scan.items {
			if it.kind != itemType || it.name == "" || oldTypes[it.name] || !hasBody(v, it) {
				continue
			}
			if wholeItemAdded(v, it, added[v]) {
				out[it.name] = true
			}
		}
	}
	// A name defined twice on the new side, once added and once not, is
	// not new.
	for _, hv := range views {
		for _, it := range hv.new.scan.items {
			if it.kind == itemType && out[it.name] && !wholeItemAdded(hv.new, it, added[hv.new]) {
				delete(out, it.name)
			}
		}
	}
	return out
}

// hasBody tells a struct/union/enum definition from a forward
// declaration or a typedef of an existing type.
func hasBody(v *sideView, it cItem) bool {
	for i := max(it.start, 0); i <= it.end && i < len(v.scan.info); i++ {
		if strings.Contains(v.scan.info[i].code, "{") {
			return true
		}
	}
	return false
}

func wholeItemAdded(v *sideView, it cItem, added map[int]bool) bool {
	if it.start < 0 || it.end < it.start {
		return false // begins before the hunk: not seen whole
	}
	for i := it.start; i <= it.end && i < len(v.scan.info); i++ {
		if v.scan.info[i].code != "" && !added[i] {
			return false
		}
	}
	return true
}
