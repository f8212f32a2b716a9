// SPDX-License-Identifier: Apache-2.0

package livepatch

// editKind is one step of an edit script.
type editKind byte

const (
	editEqual  editKind = ' '
	editDelete editKind = '-'
	editInsert editKind = '+'
)

type edit struct {
	kind editKind
	a, b int // indexes into a (equal, delete) and b (equal, insert)
}

// diffLines returns a shortest edit script turning a into b (Myers' O(ND)
// algorithm), after trimming the common prefix and suffix.
func diffLines(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []edit
	for i := 0; i < pre; i++ {
		out = append(out, edit{editEqual, i, i})
	}
	for _, e := range myers(a[pre:len(a)-suf], b[pre:len(b)-suf]) {
		out = append(out, edit{e.kind, e.a + pre, e.b + pre})
	}
	for i := 0; i < suf; i++ {
		out = append(out, edit{editEqual, len(a) - suf + i, len(b) - suf + i})
	}
	return out
}

func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	maxD := n + m
	if maxD == 0 {
		return nil
	}
	off := maxD
	v := make([]int, 2*maxD+2)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: insertion
			} else {
				x = v[off+k-1] + 1 // right: deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, d, n, m, off)
			}
		}
	}
	return nil
}

// backtrack walks the saved V arrays from (n, m) back to (0, 0).
func backtrack(trace [][]int, d, n, m, off int) []edit {
	var rev []edit
	x, y := n, m
	for ; d > 0; d-- {
		v := trace[d] // V before step d, i.e. after step d-1
		k := x - y
		var prevK int
		if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, edit{editEqual, x, y})
		}
		if x == prevX {
			y--
			rev = append(rev, edit{editInsert, x, y})
		} else {
			x--
			rev = append(rev, edit{editDelete, x, y})
		}
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, edit{editEqual, x, y})
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return out
}

// unifiedHunks groups an edit script into hunks with ctx lines of context.
func unifiedHunks(a, b []string, edits []edit, ctx int) []*Hunk {
	var hunks []*Hunk
	i := 0
	for i < len(edits) {
		for i < len(edits) && edits[i].kind == editEqual {
			i++
		}
		if i == len(edits) {
			break
		}
		start := max(i-ctx, 0)
		// Extend while changes are separated by at most 2*ctx equal lines.
		end := i
		for end < len(edits) {
			if edits[end].kind != editEqual {
				end++
				continue
			}
			run := end
			for run < len(edits) && edits[run].kind == editEqual {
				run++
			}
			if run == len(edits) || run-end > 2*ctx {
				end = min(end+ctx, len(edits))
				break
			}
			end = run
		}
		hunks = append(hunks, makeHunk(a, b, edits[start:end]))
		i = end
	}
	return hunks
}

func makeHunk(a, b []string, es []edit) *Hunk {
	h := &Hunk{OldStart: es[0].a + 1, NewStart: es[0].b + 1}
	for _, e := range es {
		switch e.kind {
		case editEqual:
			h.Lines = append(h.Lines, Line{' ', a[e.a]})
			h.OldLines++
			h.NewLines++
		case editDelete:
			h.Lines = append(h.Lines, Line{'-', a[e.a]})
			h.OldLines++
		case editInsert:
			h.Lines = append(h.Lines, Line{'+', b[e.b]})
			h.NewLines++
		}
	}
	if h.OldLines == 0 {
		h.OldStart--
	}
	if h.NewLines == 0 {
		h.NewStart--
	}
	return h
}
