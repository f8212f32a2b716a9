// SPDX-License-Identifier: Apache-2.0

package specprep_test

import (
	"fmt"

	"github.com/klpkit/klpkit/photon/specprep"
)

// ParseSpec resolves conditionals for the build environment and expands
// macros; Prep would then run the lines printed here.
func ExampleParseSpec() {
	text := `Name: linux
Version: 6.1.10
Release: 1%{?dist}
Source0: https://kernel.org/linux-%{version}.tar.xz
Patch0: fix.patch
Patch1: fips.patch

%prep
%setup -q -n linux-%{version}
%patch0 -p1
%if 0%{?fips}
%patch1 -p1
%endif
`
	spec, err := specprep.ParseSpec("linux.spec", []byte(text), specprep.SpecOptions{Dist: ".ph5", SourceDir: "/src"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Name, spec.Version, spec.Release, spec.Sources[0])
	for _, l := range spec.Prep {
		fmt.Println(l.Line, l.Text)
	}
	// Output:
	// linux 6.1.10 1.ph5 linux-6.1.10.tar.xz
	// 9 %setup -q -n linux-6.1.10
	// 10 %patch0 -p1
}
