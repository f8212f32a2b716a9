// SPDX-License-Identifier: Apache-2.0

package labtest

import (
	"testing"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
)

// RequirePhoton returns the prepared Photon lab beside the Debian lab l,
// for a test that needs it. Tests reach it through vmtest (Config.Setup,
// Config.Kernel) or vmtest.RequireLab, which already skip without
// KLPKIT_VMTEST=1; a missing Photon lab is then a failure, as for every
// lab test.
func RequirePhoton(t testing.TB, l *lab.Lab) *photonlab.Lab {
	t.Helper()
	pl, err := photonlab.Open(l.Dir)
	if err != nil {
		t.Fatalf("KLPKIT_VMTEST=1 but %v", err)
	}
	return pl
}
