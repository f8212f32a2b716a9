// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"encoding/json"
	"fmt"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/jsontext"
)

// MarshalJSON writes Retry as its message.
func (e DownloadEvent) MarshalJSON() ([]byte, error) {
	type plain DownloadEvent
	return json.Marshal(struct {
		plain
		Retry string `json:"retry,omitempty"`
	}{plain(e), jsontext.ErrText(e.Retry)})
}

// MarshalJSON writes an empty URLs as [].
func (e NotFoundError) MarshalJSON() ([]byte, error) {
	type plain NotFoundError
	p := plain(e)
	p.URLs = jsontext.NonNil(p.URLs)
	return json.Marshal(p)
}

// progress is e as a report: bytes of the file so far.
func (e DownloadEvent) progress() klpkit.Progress {
	step, msg := "bytes", ""
	switch {
	case e.Retry != nil:
		step, msg = "retry", fmt.Sprintf("retrying %s (attempt %d): %v", e.File, e.Attempt+1, e.Retry)
	case e.Done:
		step, msg = "done", "downloaded "+e.File
	case e.Bytes == 0:
		step, msg = "start", "downloading "+e.File
	}
	return klpkit.Progress{Op: klpkit.OpDownload, Step: step, Subject: e.File, Message: msg,
		Done: e.Bytes, Total: e.Total, Unit: klpkit.UnitBytes, Detail: e}
}
