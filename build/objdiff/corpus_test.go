// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/testcorpus"
)

// corpusCase is one line of kpatch-unit/expected.jsonl.
type corpusCase struct {
	Case                  string   `json:"case"`
	Expect                string   `json:"expect"`
	OrigFile              string   `json:"orig_file"`
	PatchedFile           string   `json:"patched_file"`
	Env                   []string `json:"env"`
	ChangedFunctions      []string `json:"changed_functions"`
	NewFunctions          []string `json:"new_functions"`
	IncludedFunctions     []string `json:"included_functions"`
	KlpRelocationsTo      []string `json:"klp_relocations_to"`
	OutputSpecialSections []string `json:"output_special_sections"`
}

func loadCorpus(t testing.TB) (string, []corpusCase) {
	dir := testcorpus.KpatchUnit(t)
	f, err := os.Open(filepath.Join(dir, "expected.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c corpusCase
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c))
		cases = append(cases, c)
	}
	require.NoError(t, sc.Err())
	return filepath.Join(dir, "x86_64"), cases
}

// corpusSizes returns the sizes a case's .env file sets. The README's
// common sizes are not passed: the corpus objects come from several
// kernels (.parainstructions of 12-byte entries, .altinstructions of 12,
// __jump_table of 16), and kpatch does not check that a section is a
// whole number of entries, so it silently mis-groups them. klpkit infers
// the size from the relocation layout instead (and refuses a configured
// size that does not fit, see TestWrongEntrySize).
func corpusSizes(env []string) Sizes {
	var s Sizes
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "JUMP_STRUCT_SIZE":
			s.Jump = n
		case "BUG_STRUCT_SIZE":
			s.Bug = n
		case "ALT_STRUCT_SIZE":
			s.Alternative = n
		}
	}
	return s
}

func diffCorpusCase(t testing.TB, dir string, c corpusCase) (*Result, error) {
	orig, patched := mustOpen(t, filepath.Join(dir, c.OrigFile)), mustOpen(t, filepath.Join(dir, c.PatchedFile))
	return Diff(orig, patched, &Options{Name: c.Case, Sizes: corpusSizes(c.Env)})
}

func mustOpen(t testing.TB, path string) *os.File {
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func names(fns []Function) []string {
	var out []string
	for _, f := range fns {
		out = append(out, f.Name)
	}
	return sorted(out)
}

// corpusDeviations are the cases where klpkit deliberately gives another
// result than kpatch: each adjusts the expectation and says why.
var corpusDeviations = map[string]struct {
	reason string
	adjust func(*corpusCase)
}{
	"cold-change-parent": {
		reason: "kpatch leaves the unchanged meminfo_proc_show.cold.0 as a klp relocation into the running kernel; " +
			"that cold part ends in a jump back into the middle of the ORIGINAL meminfo_proc_show (+0x37), so the " +
			"patched function would resume in old code. klpkit includes the cold part with its changed parent.",
		adjust: func(c *corpusCase) {
			c.IncludedFunctions = append(c.IncludedFunctions, "meminfo_proc_show.cold.0")
			c.KlpRelocationsTo = slices.DeleteFunc(c.KlpRelocationsTo, func(s string) bool { return s == "meminfo_proc_show.cold.0" })
		},
	},
	"import-ns": {
		reason: "the object was built with -fpatchable-function-entry (call padding); kpatch drops " +
			"__patchable_function_entries on x86_64 and only regenerates __mcount_loc. klpkit keeps the entries of the " +
			"included functions (here cmdline_proc_show's), as for every other special section, so the patch object " +
			"describes its code like the original did (the module linker script keeps the section).",
		adjust: func(c *corpusCase) {
			c.OutputSpecialSections = append(c.OutputSpecialSections, "__patchable_function_entries")
		},
	},
}

// TestKpatchUnitCorpus checks klpkit's verdict against kpatch's on every
// object pair of the public kpatch unit-test corpus.
//
// __init code: a change that only alters what .init.text references (a
// string, a callee) is "changed" when something else in the object changed
// too (altinstr_aux, oot-issue-928: kpatch says "changed", so does klpkit,
// with a warning); when it is the object's only change klpkit refuses it
// (RuleInitChanged, "fail" semantics) instead of kpatch's silent
// "no change". No corpus case has an init-only change; the fixture
// init-string-only covers it.
func TestKpatchUnitCorpus(t *testing.T) {
	dir, cases := loadCorpus(t)
	for _, c := range cases {
		t.Run(c.Case, func(t *testing.T) {
			if dev, ok := corpusDeviations[c.Case]; ok {
				t.Logf("deliberately differs from kpatch: %s", dev.reason)
				dev.adjust(&c)
			}
			res, err := diffCorpusCase(t, dir, c)
			switch c.Expect {
			case "nochange":
				require.ErrorIs(t, err, ErrNoChanges)
				return
			case "fail":
				require.ErrorIs(t, err, ErrUnsupportedChange)
				var ue *UnsupportedError
				require.True(t, errors.As(err, &ue))
				t.Logf("refused: %v", err)
				require.NotNil(t, res)
				assert.Equal(t, sorted(c.ChangedFunctions), names(res.Changed), "changed functions")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, sorted(c.ChangedFunctions), names(res.Changed), "changed functions")
			assert.Equal(t, sorted(c.NewFunctions), names(res.New), "new functions")
			var included []string
			for _, s := range res.Included {
				if s.Type == 2 { // STT_FUNC
					included = append(included, s.Name)
				}
			}
			assert.Equal(t, sorted(c.IncludedFunctions), sorted(included), "included functions")
			assert.Equal(t, sorted(c.KlpRelocationsTo), sorted(res.LivepatchSymbols()), "klp relocation targets")
			var specials []string
			for _, s := range res.out.Sections {
				if isSpecial(s.Name) || s.Name == "__mcount_loc" || s.Name == ".altinstr_replacement" || s.Name == ".altinstr_aux" ||
					s.Name == ".data.once" || s.Name == "__dyndbg" {
					specials = append(specials, s.Name)
				}
			}
			assert.Equal(t, sorted(c.OutputSpecialSections), sorted(specials), "special sections")
		})
	}
}
