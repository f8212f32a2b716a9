// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"encoding/json"
	"fmt"

	"github.com/klpkit/klpkit/internal/jsontext"
)

// JSON: enums as their names, errors as their messages, durations as
// integer nanoseconds in fields named *_ns (they decode straight into a
// time.Duration), module images never, and empty lists as [] (never null),
// so that a consumer's schema has one shape.

// eventKinds names every EventKind, in value order.
var eventKinds = [...]string{"loading", "busy-retry", "waiting", "signalled", "transition-done", "stalled", "reverting",
	"disabling", "unloading", "retired", "handover", "enabling", "handover-done"}

func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventKinds) {
		return eventKinds[k]
	}
	return "event"
}

// MarshalText gives the kind's name ("loading", "busy-retry", ...).
func (k EventKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(eventKinds) {
		return nil, fmt.Errorf("kmod: event kind %d has no name", int(k))
	}
	return []byte(eventKinds[k]), nil
}

// UnmarshalText accepts a kind's name.
func (k *EventKind) UnmarshalText(text []byte) error {
	for i, n := range eventKinds {
		if n == string(text) {
			*k = EventKind(i)
			return nil
		}
	}
	return fmt.Errorf("kmod: unknown event kind %q", text)
}

var compressions = [...]Compression{CompressNone, CompressGzip, CompressXZ, CompressZstd}

// MarshalText gives "none", "gzip", "xz" or "zstd".
func (c Compression) MarshalText() ([]byte, error) {
	return jsontext.MarshalEnum("kmod", "compression", c, compressions[:])
}

// UnmarshalText accepts "none", "gzip", "xz" or "zstd".
func (c *Compression) UnmarshalText(text []byte) error {
	v, err := jsontext.UnmarshalEnum("kmod", "compression", text, compressions[:])
	if err == nil {
		*c = v
	}
	return err
}

// MarshalJSON writes an empty Tasks as [].
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	p := plain(e)
	p.Tasks = jsontext.NonNil(p.Tasks)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Retired as [].
func (r LoadResult) MarshalJSON() ([]byte, error) {
	type plain LoadResult
	p := plain(r)
	p.Retired = jsontext.NonNil(p.Retired)
	return json.Marshal(p)
}

// MarshalJSON writes empty lists as [].
func (m ModInfo) MarshalJSON() ([]byte, error) {
	type plain ModInfo
	p := plain(m)
	p.Depends, p.Fields = jsontext.NonNil(p.Depends), jsontext.NonNil(p.Fields)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Deps as [].
func (m LoadedModule) MarshalJSON() ([]byte, error) {
	type plain LoadedModule
	p := plain(m)
	p.Deps = jsontext.NonNil(p.Deps)
	return json.Marshal(p)
}

// MarshalJSON writes the errors as their messages ("" for none).
func (e OpError) MarshalJSON() ([]byte, error) {
	type plain OpError
	return json.Marshal(struct {
		plain
		Kind string `json:"kind"`
		Err  string `json:"err"`
	}{plain(e), jsontext.ErrText(e.Kind), jsontext.ErrText(e.Err)})
}

// MarshalJSON writes RevertErr as its message and an empty Tasks as [].
func (e StalledError) MarshalJSON() ([]byte, error) {
	type plain StalledError
	p := plain(e)
	p.Tasks = jsontext.NonNil(p.Tasks)
	return json.Marshal(struct {
		plain
		RevertErr string `json:"revert_err"`
	}{p, jsontext.ErrText(e.RevertErr)})
}

// MarshalJSON writes Err as its message and an empty Left as [].
func (e CancelledError) MarshalJSON() ([]byte, error) {
	type plain CancelledError
	p := plain(e)
	p.Left = jsontext.NonNil(p.Left)
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{p, jsontext.ErrText(e.Err)})
}

// MarshalJSON writes empty lists as [].
func (l Listing) MarshalJSON() ([]byte, error) {
	type plain Listing
	p := plain(l)
	p.Loaded, p.Replaced, p.Stalled, p.Installed = jsontext.NonNil(p.Loaded), jsontext.NonNil(p.Replaced), jsontext.NonNil(p.Stalled), jsontext.NonNil(p.Installed)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Objects as [].
func (lp Livepatch) MarshalJSON() ([]byte, error) {
	type plain Livepatch
	p := plain(lp)
	p.Objects = jsontext.NonNil(p.Objects)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Functions as [].
func (o Object) MarshalJSON() ([]byte, error) {
	type plain Object
	p := plain(o)
	p.Functions = jsontext.NonNil(p.Functions)
	return json.Marshal(p)
}
