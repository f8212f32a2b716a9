// SPDX-License-Identifier: Apache-2.0

package photon

import "fmt"

// Flavor is a Photon kernel flavor: the suffix after ".phN-" in uname -r, or
// Generic when there is none.
type Flavor string

// The flavors Photon has shipped on x86_64.
const (
	Generic Flavor = "generic" // package linux, no suffix in uname -r
	ESX     Flavor = "esx"     // linux-esx: VMware guests; never has CONFIG_LIVEPATCH
	RT      Flavor = "rt"      // linux-rt: PREEMPT_RT
	AWS     Flavor = "aws"     // linux-aws
	Secure  Flavor = "secure"  // linux-secure: hardened; never has CONFIG_LIVEPATCH
)

// knownFlavors lists every flavor the uname grammar accepts, in a stable order.
var knownFlavors = [...]Flavor{Generic, ESX, RT, AWS, Secure}

func parseFlavor(s string) (Flavor, bool) {
	for _, f := range knownFlavors {
		if f != Generic && string(f) == s {
			return f, true
		}
	}
	return "", false
}

// Package is the flavor's kernel package name: "linux" or "linux-<flavor>".
func (f Flavor) Package() string {
	if f == Generic || f == "" {
		return "linux"
	}
	return "linux-" + string(f)
}

// suffix is what the flavor adds to uname -r ("" or "-rt").
func (f Flavor) suffix() string {
	if f == Generic || f == "" {
		return ""
	}
	return "-" + string(f)
}

// ConfigFile names the flavor's x86_64 kernel config in the source RPM of
// release r (the spec's Source1), e.g. "config_x86_64" or "config-rt".
func (f Flavor) ConfigFile(r Release) (string, error) {
	info, err := Lookup(r)
	if err != nil {
		return "", err
	}
	fi, ok := info.Flavor(f)
	if !ok || fi.ConfigFile == "" {
		return "", fmt.Errorf("photon: Photon %s has no %s kernel flavor", r, f)
	}
	return fi.ConfigFile, nil
}
