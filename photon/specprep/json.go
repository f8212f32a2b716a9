// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"encoding/json"

	"github.com/klpkit/klpkit/internal/jsontext"
)

// MarshalJSON writes Err as its message.
func (e PatchError) MarshalJSON() ([]byte, error) {
	type plain PatchError
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{plain(e), jsontext.ErrText(e.Err)})
}
