// SPDX-License-Identifier: Apache-2.0

package klpkit

import "errors"

// ErrNoChanges: the patches change nothing a livepatch could carry. The
// packages that find it say it at their level (livepatch: the patches
// taken together change no file; build/objdiff: the object's builds
// differ in no function; build: no object's do), and export this one
// value as their ErrNoChanges, so errors.Is(err, x.ErrNoChanges) holds
// for any of them whichever package found it.
var ErrNoChanges = errors.New("no functional changes found")
