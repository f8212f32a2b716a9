// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"fmt"
	"path"
)

// Where a kernel's devel and debuginfo packages put their files on a
// Photon system: names, not I/O, so they belong to the model.

// DevelRPM is the file name of the kernel's x86_64 devel RPM, e.g.
// linux-aws-devel-6.1.10-11.ph5.x86_64.rpm.
func (k Kernel) DevelRPM() string {
	return fmt.Sprintf("%s-devel-%s-%s.x86_64.rpm", k.Package(), k.Version, k.RPMRelease())
}

// HeadersDir is where the devel RPM installs the kernel's build tree:
// /usr/src/linux-headers-<uname -r> (/lib/modules/<uname -r>/build points
// there).
func (k Kernel) HeadersDir() string { return "/usr/src/linux-headers-" + k.String() }

// ModuleSymversPath is the devel RPM's Module.symvers.
func (k Kernel) ModuleSymversPath() string { return k.HeadersDir() + "/Module.symvers" }

// ModuleDebugDir is where the debuginfo RPM installs the modules' debug
// files (kernel/**/<module>.ko.debug): /usr/lib/debug/lib/modules/<uname -r>.
func (k Kernel) ModuleDebugDir() string { return path.Dir(k.VmlinuxPath()) }
