// SPDX-License-Identifier: Apache-2.0

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

	"github.com/klpkit/klpkit/photon"
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

// specParams are what differs between the lab's specs.
type specParams struct {
	Name          string // package: linux, linux-aws
	Flavor        string // generic, aws
	Version       string // 6.1.192
	Release       string // 1 (the spec adds %{?dist})
	ConfigSource  string // Source1: config_%{_arch}, config-aws
	UnameSuffix   string // "" or "-aws": what the flavor adds to uname -r
	TarballSHA512 string
	Patches       []Patch
	TrustedCert   string // Source2, copied to certs/ in %prep; "" = none
}

// specInput fills linux.spec.in.
type specInput struct {
	specParams
	Major   string
	Patches []specPatch
	Ranges  []patchRange
}

type specPatch struct {
	Number        int
	File, Comment string
	Pad           string // aligns the file names as Photon's specs do
}

// specParamsFor describes kernel k's spec; trustedCert is the name of the
// certificate file it ships for the kernel's keyring, or "".
func specParamsFor(k photon.Kernel, tarballSHA512 string, patches []Patch, trustedCert string) (specParams, error) {
	config, err := k.ConfigFile()
	if err != nil {
		return specParams{}, err
	}
	if config == "config_x86_64" {
		config = "config_%{_arch}" // as Photon's generic spec writes it
	}
	suffix := strings.TrimPrefix(k.LocalVersion(), "-"+k.RPMRelease())
	return specParams{Name: k.Package(), Flavor: string(k.Flavor), Version: k.Version.String(), Release: strings.TrimSuffix(k.RPMRelease(), k.Release().DistTag()),
		ConfigSource: config, UnameSuffix: suffix, TarballSHA512: tarballSHA512, Patches: patches, TrustedCert: trustedCert}, nil
}

// renderSpec writes a spec from the template file.
func renderSpec(templateFile string, params specParams) ([]byte, error) {
	text, err := os.ReadFile(templateFile)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New(filepath.Base(templateFile)).Option("missingkey=error").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("photonlab: spec template %s: %w", templateFile, err)
	}
	in := specInput{specParams: params, Major: params.Version}
	if i := strings.LastIndexByte(params.Version, '.'); i > 0 {
		in.Major = params.Version[:i]
	}
	last := ""
	for _, p := range params.Patches {
		r, _ := rangeOf(p.Number)
		sp := specPatch{Number: p.Number, File: p.File}
		if r.Name != last {
			sp.Comment, last = r.Name, r.Name
		}
		sp.Pad = strings.Repeat(" ", max(1, 16-len(fmt.Sprintf("Patch%d:", p.Number))))
		in.Patches = append(in.Patches, sp)
	}
	for _, r := range patchRanges() {
		for _, p := range params.Patches {
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
