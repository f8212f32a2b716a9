// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"fmt"
	"regexp"
)

// warnSite matches macros that embed __LINE__ in code or in __bug_table.
var warnSite = regexp.MustCompile(`\b(WARN|WARN_ON|WARN_ON_ONCE|WARN_ONCE|WARN_TAINT|WARN_TAINT_ONCE|BUG|BUG_ON|might_sleep|might_sleep_if|might_fault|might_resched|cant_sleep|lockdep_assert\w*)\s*\(`)

type siteRef struct {
	line int
	fn   string
}

// checkLineShift warns, once per file, when the patch moves WARN/BUG sites
// of functions it does not otherwise change: their objects differ only in
// __LINE__ immediates, which the object differ recognises as no change.
func (c *fileCheck) checkLineShift(views []hunkView, changed []changedLine) {
	if c.f.Op == OpCreate || c.f.Op == OpDelete {
		return
	}
	touched := map[string]bool{}
	for _, cl := range changed {
		if it := cl.view.item(cl.idx); it != nil && it.kind == itemFunction {
			touched[it.name] = true
		}
	}
	var sites []siteRef
	firstShift := 0
	cum := 0
	for j, hv := range views {
		run := cum
		ni := hv.newStart
		for _, l := range hv.h.Lines {
			switch l.Kind {
			case '+':
				run++
				ni++
				if firstShift == 0 && run != 0 {
					firstShift = hv.new.first + ni - 1
				}
			case '-':
				run--
				if firstShift == 0 && run != 0 {
					firstShift = hv.new.first + ni
				}
			case ' ':
				if run != 0 {
					sites = appendSite(sites, hv.new, ni, touched)
				}
				ni++
			}
		}
		cum += hv.h.NewLines - hv.h.OldLines
		if cum != 0 && c.after != nil {
			// With the whole file: everything up to the next hunk moves.
			end := len(hv.new.scan.info)
			if j+1 < len(views) {
				end = views[j+1].newStart
			}
			for idx := ni; idx < end; idx++ {
				sites = appendSite(sites, hv.new, idx, touched)
			}
		}
	}
	if len(sites) == 0 {
		return
	}
	c.finding(RuleLineShift, SeverityWarning, firstShift, "", fmt.Sprintf(
		"shifts the line numbers of %d WARN/BUG/might_sleep site(s) in functions the patch does not change (first: line %d in %s); their objects differ only in __LINE__ constants, which the object differ ignores, so this is harmless and no extra function gets patched",
		len(sites), sites[0].line, sites[0].fn))
}

func appendSite(sites []siteRef, v *sideView, idx int, touched map[string]bool) []siteRef {
	if idx < 0 || idx >= len(v.scan.info) {
		return sites
	}
	info := v.scan.info[idx]
	if !info.inBody || !warnSite.MatchString(info.code) {
		return sites
	}
	it := v.item(idx)
	if it == nil || touched[it.name] {
		return sites
	}
	for _, s := range sites {
		if s.line == v.first+idx {
			return sites
		}
	}
	return append(sites, siteRef{line: v.first + idx, fn: it.name})
}
