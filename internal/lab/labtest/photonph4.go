// SPDX-License-Identifier: Apache-2.0

package labtest

import (
	"testing"

	"github.com/klpkit/klpkit/internal/lab/photonlab"
)

// RequirePhotonGeneration returns the prepared Photon lab of generation g
// in the top lab directory labDir (lab.DirFromEnv; the Photon labs of
// every generation are in its photon/), for a test that needs it, as
// RequirePhoton: reached after vmtest's KLPKIT_VMTEST check, a missing lab
// is a failure (`make lab-photon-ph4` prepares the ph4 one).
func RequirePhotonGeneration(t testing.TB, labDir string, g photonlab.Generation) *photonlab.Lab {
	t.Helper()
	pl, err := photonlab.OpenGeneration(labDir, g)
	if err != nil {
		t.Fatalf("KLPKIT_VMTEST=1 but %v", err)
	}
	return pl
}
