// SPDX-License-Identifier: Apache-2.0

package livepatch

// AddedLines returns the 1-based numbers of the lines of after that a
// shortest line diff from before inserts: the lines whose compiled code,
// if any, a livepatch must carry. Lines only deleted have no number in
// after and are not listed.
func AddedLines(before, after []byte) []int {
	var out []int
	for _, e := range diffLines(splitLines(string(before)), splitLines(string(after))) {
		if e.kind == editInsert {
			out = append(out, e.b+1)
		}
	}
	return out
}

// DeletedLines returns the 1-based numbers of the lines of before that a
// shortest line diff to after deletes (replaced lines among them): where
// the running code held what the patches take away. A hunk that only
// deletes lines adds none, so these are all that tell which functions it
// changes.
func DeletedLines(before, after []byte) []int {
	var out []int
	for _, e := range diffLines(splitLines(string(before)), splitLines(string(after))) {
		if e.kind == editDelete {
			out = append(out, e.a+1)
		}
	}
	return out
}
