// SPDX-License-Identifier: Apache-2.0

package build

import (
	"debug/elf"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// linearFunctionAt is the definition funcIndex.at must agree with: the
// first function in symbol table order covering off.
func linearFunctionAt(f *elfobj.File, sec *elfobj.Section, off uint64) *elfobj.Symbol {
	for _, s := range f.Symbols {
		if s.Section == sec && s.Type == elf.STT_FUNC && off >= s.Value && off < s.Value+s.Size && !strings.HasPrefix(s.Name, "__pfx_") {
			return s
		}
	}
	return nil
}

func TestFuncIndex(t *testing.T) {
	text := &elfobj.Section{Name: ".text", Index: 1}
	cold := &elfobj.Section{Name: ".text.unlikely", Index: 2}
	fn := func(name string, sec *elfobj.Section, value, size uint64) *elfobj.Symbol {
		return &elfobj.Symbol{Name: name, Type: elf.STT_FUNC, Section: sec, Value: value, Size: size}
	}
	f := &elfobj.File{Symbols: []*elfobj.Symbol{
		{}, // the null symbol
		fn("__pfx_a", text, 0, 16),
		fn("b", text, 48, 8),
		fn("a", text, 16, 32),
		fn("a_alias", text, 16, 32),
		{Name: "data", Type: elf.STT_OBJECT, Section: text, Value: 56, Size: 8},
		fn("big", text, 64, 100),
		fn("inner", text, 80, 4),
		fn("empty", text, 200, 0),
		fn("a.cold", cold, 0, 10),
	}}
	x := newFuncIndex(f)
	for _, tc := range []struct {
		sec  *elfobj.Section
		off  uint64
		want string
	}{
		{text, 0, ""},              // padding only
		{text, 15, ""},             // padding only
		{text, 16, "a"},            // a before its alias in the table
		{text, 47, "a"},            //
		{text, 48, "b"},            //
		{text, 56, ""},             // data, not a function
		{text, 80, "big"},          // big is first in the table
		{text, 90, "big"},          //
		{text, 163, "big"},         // last byte of big
		{text, 164, ""},            //
		{text, 200, ""},            // a zero-size symbol covers nothing
		{cold, 5, "a.cold"},        //
		{cold, 10, ""},             //
		{&elfobj.Section{}, 0, ""}, // a section without functions
	} {
		got := x.at(tc.sec, tc.off)
		name := ""
		if got != nil {
			name = got.Name
		}
		if name != tc.want {
			t.Errorf("at(%s, %d) = %q, want %q", tc.sec.Name, tc.off, name, tc.want)
		}
	}
}

// TestFuncIndexAgrees checks the index against the linear definition on
// random layouts with overlaps and aliases.
func TestFuncIndexAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	secs := []*elfobj.Section{{Name: ".text.a", Index: 1}, {Name: ".text.b", Index: 2}}
	for round := range 200 {
		f := &elfobj.File{Symbols: []*elfobj.Symbol{{}}}
		for i := range rng.IntN(30) {
			typ := elf.STT_FUNC
			if rng.IntN(5) == 0 {
				typ = elf.STT_OBJECT
			}
			name := "f" + string(rune('a'+i%26))
			if rng.IntN(6) == 0 {
				name = "__pfx_" + name
			}
			f.Symbols = append(f.Symbols, &elfobj.Symbol{Name: name, Type: typ, Section: secs[rng.IntN(2)],
				Value: uint64(rng.IntN(100)), Size: uint64(rng.IntN(40))})
		}
		x := newFuncIndex(f)
		for _, sec := range secs {
			for off := uint64(0); off < 150; off++ {
				if got, want := x.at(sec, off), linearFunctionAt(f, sec, off); got != want {
					t.Fatalf("round %d: at(%s, %d) = %v, want %v", round, sec.Name, off, got, want)
				}
			}
		}
	}
}
