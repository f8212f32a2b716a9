package photonlab

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// Asset file names inside Config.Assets (testdata/photonlab).
const (
	specTemplateName = "linux.spec.in"
	fragmentName     = "config-fragment"
	patchesDirName   = "patches"
)

// patchRange is one %autopatch range of the spec, named as Photon 5.0's
// linux.spec groups its patches.
type patchRange struct {
	Name     string
	Min, Max int
}

// patchRanges are the ranges the spec applies, in %prep order.
func patchRanges() []patchRange { return []patchRange{{"common", 0, 49}, {"CVE", 100, 154}} }

// Patch is one patch of the lab's source RPM.
type Patch struct {
	Number int    // PatchN in the spec: the file name's leading number
	File   string // file name in the source RPM
	Path   string // the file on the host
}

// readPatches lists dir's *.patch files, numbered by their leading digits
// (0100-foo.patch is Patch100), in %prep order.
func readPatches(dir string) ([]Patch, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.patch"))
	if err != nil {
		return nil, err
	}
	var patches []Patch
	seen := map[int]string{}
	for _, f := range files {
		base := filepath.Base(f)
		digits, _, ok := strings.Cut(base, "-")
		n, err := strconv.Atoi(digits)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("photonlab: patch %s: the name must start with its number and a dash (0100-fix.patch)", f)
		}
		if other, dup := seen[n]; dup {
			return nil, fmt.Errorf("photonlab: patches %s and %s both are Patch%d", other, base, n)
		}
		if _, ok := rangeOf(n); !ok {
			return nil, fmt.Errorf("photonlab: patch %s: Patch%d is in no %%autopatch range of the spec (%v)", f, n, patchRanges())
		}
		seen[n] = base
		patches = append(patches, Patch{Number: n, File: base, Path: f})
	}
	if len(patches) == 0 {
		return nil, fmt.Errorf("photonlab: no *.patch files in %s", dir)
	}
	sort.Slice(patches, func(i, j int) bool { return patches[i].Number < patches[j].Number })
	return patches, nil
}

func rangeOf(n int) (patchRange, bool) {
	for _, r := range patchRanges() {
		if n >= r.Min && n <= r.Max {
			return r, true
		}
	}
	return patchRange{}, false
}

// specInput fills linux.spec.in.
type specInput struct {
	Version, Release, Major string
	TarballSHA512           string
	Patches                 []specPatch
	Ranges                  []patchRange
}

type specPatch struct {
	Number        int
	File, Comment string
	Pad           string // aligns the file names as Photon's specs do
}

// renderSpec writes linux.spec from the template file.
func renderSpec(templateFile, version, release, tarballSHA512 string, patches []Patch) ([]byte, error) {
	text, err := os.ReadFile(templateFile)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New(filepath.Base(templateFile)).Option("missingkey=error").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("photonlab: spec template %s: %w", templateFile, err)
	}
	in := specInput{Version: version, Release: release, TarballSHA512: tarballSHA512}
	in.Major = version
	if i := strings.LastIndexByte(version, '.'); i > 0 {
		in.Major = version[:i]
	}
	last := ""
	for _, p := range patches {
		r, _ := rangeOf(p.Number)
		sp := specPatch{Number: p.Number, File: p.File}
		if r.Name != last {
			sp.Comment, last = r.Name, r.Name
		}
		sp.Pad = strings.Repeat(" ", max(1, 16-len(fmt.Sprintf("Patch%d:", p.Number))))
		in.Patches = append(in.Patches, sp)
	}
	for _, r := range patchRanges() {
		for _, p := range patches {
			if p.Number >= r.Min && p.Number <= r.Max {
				in.Ranges = append(in.Ranges, r)
				break
			}
		}
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, in); err != nil {
		return nil, fmt.Errorf("photonlab: spec template %s: %w", templateFile, err)
	}
	return out.Bytes(), nil
}
