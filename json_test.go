// SPDX-License-Identifier: Apache-2.0

// SPDX-License-Identifier: Apache-2.0

package klpkit_test

import (
	"bytes"
	"debug/elf"
	"encoding"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/objdiff"
	"github.com/klpkit/klpkit/build/photonsource"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/livepatch"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/photon/specprep"
	"github.com/klpkit/klpkit/rpmpkg"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json")

// jsonTypes are the public result, event and error types: their JSON is
// what CLIs print with --json and what programs store, so its schema is
// pinned by testdata/golden/<package>.<Type>.json. A type added to the
// public API that programs see as JSON belongs here.
var jsonTypes = []any{
	klpkit.Progress{},
	// photon
	photon.Kernel{}, photon.SupportError{}, photon.ParseError{}, photon.ReleaseInfo{},
	kernelsrc.DownloadEvent{}, kernelsrc.NotFoundError{}, kernelsrc.ChecksumError{},
	kernelsrc.SizeError{}, kernelsrc.RedirectError{}, kernelsrc.CompilerMismatchError{}, kernelsrc.PackageEntry{},
	specprep.PrepareEvent{}, specprep.SpecError{}, specprep.PatchError{},
	// livepatch
	livepatch.Finding{}, livepatch.ApplyResult{}, livepatch.Placement{}, livepatch.ParseError{},
	livepatch.HunkError{}, livepatch.FileError{},
	// build
	build.Event{}, build.Result{}, build.Plan{}, build.ObjectError{}, build.NotPatchedError{},
	build.ExportVersionError{}, objdiff.Result{}, objdiff.FunctionState{}, objdiff.UnsupportedError{},
	build.ArchRelocationError{}, photonsource.MakeError{},
	// kmod
	kmod.Event{}, kmod.LoadResult{}, kmod.Listing{}, kmod.LoadedModule{}, kmod.OpError{},
	kmod.StalledError{}, kmod.CancelledError{}, kmod.VermagicError{},
	// rpmpkg
	rpmpkg.Info{}, rpmpkg.ExtractResult{}, rpmpkg.ExtractEvent{}, rpmpkg.EntryError{}, rpmpkg.ModuleError{},
}

// samples fill fields whose type only takes valid values.
var samples = map[reflect.Type]any{
	reflect.TypeFor[photon.Kernel]():        photon.MustParseKernel("5.10.118-rt67-3.ph4-rt"),
	reflect.TypeFor[photon.Flavor]():        photon.RT,
	reflect.TypeFor[photon.Release]():       photon.Release(4),
	reflect.TypeFor[photon.Version]():       photon.V(5, 10, 118),
	reflect.TypeFor[photon.Threshold]():     photon.Threshold{Version: photon.V(5, 10, 118), Build: 2},
	reflect.TypeFor[photon.SupportReason](): photon.ReasonBelowThreshold,
	reflect.TypeFor[specprep.PrepareStep](): specprep.StepExtract,
	reflect.TypeFor[build.Stage]():          build.StageCompile,
	reflect.TypeFor[livepatch.Severity]():   livepatch.SeverityError,
	reflect.TypeFor[livepatch.Op]():         livepatch.OpRename,
	reflect.TypeFor[kmod.EventKind]():       kmod.EventTransition,
	reflect.TypeFor[kmod.Compression]():     kmod.CompressXZ,
	reflect.TypeFor[rpmpkg.EntryType]():     rpmpkg.TypeSymlink,
	reflect.TypeFor[time.Time]():            time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	reflect.TypeFor[time.Duration]():        1500 * time.Millisecond,
	reflect.TypeFor[fs.FileMode]():          fs.FileMode(0o644),
	reflect.TypeFor[elf.SymBind]():          elf.STB_GLOBAL,
	reflect.TypeFor[elf.SymType]():          elf.STT_FUNC,
	reflect.TypeFor[elf.R_X86_64]():         elf.R_X86_64_PLT32,
	reflect.TypeFor[[]byte]():               []byte("module image"),
}

var errorType = reflect.TypeFor[error]()

// fill sets every exported field of v to a non-zero sample (field names
// for strings, 1 for numbers, one element for lists), so that each field
// shows in the golden file.
func fill(v reflect.Value, name string, depth int) {
	if s, ok := samples[v.Type()]; ok {
		v.Set(reflect.ValueOf(s))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(name)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Interface:
		if v.Type() == errorType {
			v.Set(reflect.ValueOf(errors.New(name + " cause")))
		}
	case reflect.Pointer:
		if depth < 8 {
			p := reflect.New(v.Type().Elem())
			fill(p.Elem(), name, depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		if depth < 8 {
			s := reflect.MakeSlice(v.Type(), 1, 1)
			fill(s.Index(0), name, depth+1)
			v.Set(s)
		}
	case reflect.Map:
		if depth < 8 {
			m := reflect.MakeMap(v.Type())
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, name, depth+1)
			fill(e, name, depth+1)
			m.SetMapIndex(k, e)
			v.Set(m)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), f.Name, depth+1)
			}
		}
	}
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	return filepath.Base(t.PkgPath()) + "." + t.Name()
}

func TestJSONGolden(t *testing.T) {
	for _, z := range jsonTypes {
		name := typeName(z)
		t.Run(name, func(t *testing.T) {
			v := reflect.New(reflect.TypeOf(z))
			fill(v.Elem(), name, 0)
			got, err := json.MarshalIndent(v.Interface(), "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestJSONGolden -update . to write it")
			assert.Equal(t, string(want), string(got), "%s: its JSON changed; if on purpose, rerun with -update and review the diff", path)

			// Text types round-trip.
			if _, ok := v.Interface().(encoding.TextUnmarshaler); ok {
				back := reflect.New(reflect.TypeOf(z))
				require.NoError(t, json.Unmarshal(got, back.Interface()))
				assert.Equal(t, v.Elem().Interface(), back.Elem().Interface())
			}
		})
	}
}

// TestJSONGoldenComplete fails on a golden file no type writes any more.
func TestJSONGoldenComplete(t *testing.T) {
	names := map[string]bool{}
	for _, z := range jsonTypes {
		names[typeName(z)+".json"] = true
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		assert.True(t, names[filepath.Base(f)], "%s: no type in jsonTypes writes it; remove it", f)
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

// TestJSONFieldNames requires a snake_case json tag on every exported
// field the public types marshal, nested types included.
func TestJSONFieldNames(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.Implements(textMarshaler) || typ.PkgPath() == "time" {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" {
				continue
			}
			assert.Regexp(t, snakeCase, tag, "%s.%s needs a snake_case json tag", path, f.Name)
			walk(f.Type, path+"."+f.Name)
		}
	}
	for _, z := range jsonTypes {
		walk(reflect.TypeOf(z), typeName(z))
	}
}

// TestJSONEmptyLists: the zero value of each type writes [] for every
// list, never null.
func TestJSONEmptyLists(t *testing.T) {
	for _, z := range jsonTypes {
		b, err := json.Marshal(reflect.New(reflect.TypeOf(z)).Interface())
		require.NoError(t, err, typeName(z))
		var m any
		require.NoError(t, json.Unmarshal(b, &m))
		checkNoNullLists(t, reflect.TypeOf(z), m, typeName(z))
	}
}

func checkNoNullLists(t *testing.T, typ reflect.Type, v any, path string) {
	t.Helper()
	obj, ok := v.(map[string]any)
	if typ.Kind() != reflect.Struct || !ok {
		return
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || tag == "-" || tag == "" {
			continue
		}
		val, present := obj[tag]
		switch {
		case f.Type.Kind() == reflect.Slice && f.Type != reflect.TypeFor[[]byte]():
			assert.True(t, present, "%s.%s: missing", path, f.Name)
			assert.NotNil(t, val, "%s.%s: an empty list must marshal as [], not null", path, f.Name)
		case f.Type.Kind() == reflect.Struct:
			checkNoNullLists(t, f.Type, val, path+"."+f.Name)
		}
	}
}

// TestJSONGoldenNoNull: a fully filled value has no null anywhere.
func TestJSONGoldenNoNull(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.False(t, bytes.Contains(b, []byte(": null")), "%s: a field is null although the value is filled", f)
	}
}
