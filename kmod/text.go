// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"encoding/json"
	"fmt"
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
	if c < 0 || int(c) >= len(compressions) {
		return nil, fmt.Errorf("kmod: compression %d has no name", int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText accepts "none", "gzip", "xz" or "zstd".
func (c *Compression) UnmarshalText(text []byte) error {
	for _, v := range compressions {
		if v.String() == string(text) {
			*c = v
			return nil
		}
	}
	return fmt.Errorf("kmod: unknown compression %q", text)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// MarshalJSON writes an empty Tasks as [].
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	p := plain(e)
	p.Tasks = nonNil(p.Tasks)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Retired as [].
func (r LoadResult) MarshalJSON() ([]byte, error) {
	type plain LoadResult
	p := plain(r)
	p.Retired = nonNil(p.Retired)
	return json.Marshal(p)
}

// MarshalJSON writes empty lists as [].
func (m ModInfo) MarshalJSON() ([]byte, error) {
	type plain ModInfo
	p := plain(m)
	p.Depends, p.Fields = nonNil(p.Depends), nonNil(p.Fields)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Deps as [].
func (m LoadedModule) MarshalJSON() ([]byte, error) {
	type plain LoadedModule
	p := plain(m)
	p.Deps = nonNil(p.Deps)
	return json.Marshal(p)
}

// MarshalJSON writes the errors as their messages ("" for none).
func (e OpError) MarshalJSON() ([]byte, error) {
	type plain OpError
	return json.Marshal(struct {
		plain
		Kind string `json:"kind"`
		Err  string `json:"err"`
	}{plain(e), errText(e.Kind), errText(e.Err)})
}

// MarshalJSON writes RevertErr as its message and an empty Tasks as [].
func (e StalledError) MarshalJSON() ([]byte, error) {
	type plain StalledError
	p := plain(e)
	p.Tasks = nonNil(p.Tasks)
	return json.Marshal(struct {
		plain
		RevertErr string `json:"revert_err"`
	}{p, errText(e.RevertErr)})
}

// MarshalJSON writes Err as its message and an empty Left as [].
func (e CancelledError) MarshalJSON() ([]byte, error) {
	type plain CancelledError
	p := plain(e)
	p.Left = nonNil(p.Left)
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{p, errText(e.Err)})
}

// MarshalJSON writes empty lists as [].
func (l Listing) MarshalJSON() ([]byte, error) {
	type plain Listing
	p := plain(l)
	p.Loaded, p.Replaced, p.Stalled, p.Installed = nonNil(p.Loaded), nonNil(p.Replaced), nonNil(p.Stalled), nonNil(p.Installed)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Objects as [].
func (lp Livepatch) MarshalJSON() ([]byte, error) {
	type plain Livepatch
	p := plain(lp)
	p.Objects = nonNil(p.Objects)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Functions as [].
func (o Object) MarshalJSON() ([]byte, error) {
	type plain Object
	p := plain(o)
	p.Functions = nonNil(p.Functions)
	return json.Marshal(p)
}
