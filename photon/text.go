// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/klpkit/klpkit/internal/jsontext"
)

// The kernel model marshals as text, so that JSON, YAML and flag values
// show what a person reads: "5.10.118-3.ph4-rt", not a struct of numbers.
// Each UnmarshalText accepts exactly what the MarshalText beside it writes
// (and validates it), so a value round-trips.

// MarshalText gives the uname -r string; the zero Kernel gives "".
func (k Kernel) MarshalText() ([]byte, error) {
	if k == (Kernel{}) {
		return []byte{}, nil
	}
	return []byte(k.String()), nil
}

// UnmarshalText parses a uname -r string as ParseKernel does; "" gives the
// zero Kernel.
func (k *Kernel) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*k = Kernel{}
		return nil
	}
	v, err := ParseKernel(string(text))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// MarshalText gives the flavor's name ("generic", "rt", ...).
func (f Flavor) MarshalText() ([]byte, error) { return []byte(f), nil }

// UnmarshalText accepts the name of a flavor Photon has shipped, or "".
func (f *Flavor) UnmarshalText(text []byte) error {
	s := Flavor(text)
	if s == "" || s == Generic {
		*f = s
		return nil
	}
	v, ok := parseFlavor(string(s))
	if !ok {
		return fmt.Errorf("photon: unknown kernel flavor %q (known: %s)", text, flavorNames())
	}
	*f = v
	return nil
}

func flavorNames() string {
	names := make([]string, len(knownFlavors))
	for i, f := range knownFlavors {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// MarshalText gives the release as Photon writes it, e.g. "5.0"; the zero
// Release gives "".
func (r Release) MarshalText() ([]byte, error) {
	if r == 0 {
		return []byte{}, nil
	}
	return []byte(r.String()), nil
}

// UnmarshalText accepts "N.0" (or "N"), as Photon names its releases, or "".
func (r *Release) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*r = 0
		return nil
	}
	s, _ := strings.CutSuffix(string(text), ".0")
	n, err := parseNumber(s)
	if err != nil || n == 0 {
		return fmt.Errorf("photon: release %q: want N.0, e.g. 5.0", text)
	}
	*r = Release(n)
	return nil
}

// MarshalText gives "MAJOR.MINOR.PATCH".
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses "MAJOR.MINOR.PATCH" as ParseVersion does.
func (v *Version) UnmarshalText(text []byte) error {
	w, err := ParseVersion(string(text))
	if err != nil {
		return fmt.Errorf("photon: %w", err)
	}
	*v = w
	return nil
}

// MarshalText gives "VERSION-BUILD", e.g. "6.1.118-7"; the zero Threshold
// (no threshold) gives "".
func (t Threshold) MarshalText() ([]byte, error) {
	if t.isZero() {
		return []byte{}, nil
	}
	return []byte(t.String()), nil
}

// UnmarshalText parses "VERSION-BUILD", or "" for no threshold.
func (t *Threshold) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*t = Threshold{}
		return nil
	}
	ver, build, ok := strings.Cut(string(text), "-")
	if !ok {
		return fmt.Errorf("photon: threshold %q: want VERSION-BUILD, e.g. 6.1.118-7", text)
	}
	v, err := ParseVersion(ver)
	if err != nil {
		return fmt.Errorf("photon: threshold %q: %w", text, err)
	}
	b, err := parseNumber(build)
	if err != nil {
		return fmt.Errorf("photon: threshold %q: build %q is not a number", text, build)
	}
	*t = Threshold{Version: v, Build: b}
	return nil
}

// MarshalJSON writes an empty Flavors as [].
func (ri ReleaseInfo) MarshalJSON() ([]byte, error) {
	type plain ReleaseInfo
	p := plain(ri)
	p.Flavors = jsontext.NonNil(p.Flavors)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Bad as [].
func (fi FlavorInfo) MarshalJSON() ([]byte, error) {
	type plain FlavorInfo
	p := plain(fi)
	p.Bad = jsontext.NonNil(p.Bad)
	return json.Marshal(p)
}
