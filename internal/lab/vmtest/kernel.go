// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"testing"

	"github.com/klpkit/klpkit/internal/lab"
)

// KernelFunc picks the bzImage a VM test boots instead of the lab's own
// kernel (Config.Kernel). It runs on the host only, like Config.Setup,
// after the lab gate.
type KernelFunc func(t *testing.T, l *lab.Lab) string
