// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"fmt"
	"os"

	"github.com/klpkit/klpkit/internal/beneath"
)

// maxTreeFile bounds a file Prepare reads into memory from the source RPM
// or the kernel tree (the spec, a config, a localversion file).
const maxTreeFile = 64 << 20

// readBeneath reads root/name without following any link out of root
// (internal/beneath), returning its permission bits too. Errors name the
// file, never its content.
func readBeneath(root, name string) ([]byte, os.FileMode, error) {
	data, mode, err := beneath.ReadFile(root, name, maxTreeFile)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	return data, mode, nil
}
