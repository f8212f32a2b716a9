// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

func TestEnumText(t *testing.T) {
	for k := EventLoading; k <= EventHandoverDone; k++ {
		b, err := json.Marshal(k)
		require.NoError(t, err)
		assert.Equal(t, `"`+k.String()+`"`, string(b))
		var back EventKind
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, k, back)
	}
	for _, c := range compressions {
		b, err := json.Marshal(c)
		require.NoError(t, err)
		var back Compression
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, c, back)
	}
	_, err := json.Marshal(EventKind(99))
	assert.Error(t, err)
	var k EventKind
	assert.Error(t, json.Unmarshal([]byte(`"exploded"`), &k))
	var c Compression
	assert.Error(t, json.Unmarshal([]byte(`"bzip2"`), &c))
}

func TestJSONShape(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{Event{Kind: EventTransition, Module: "p", Elapsed: 1500 * time.Millisecond},
			`{"kind":"transition-done","module":"p","path":"","attempt":0,"elapsed_ns":1500000000,"tasks":[],"automatic":false}`},
		// The module's image stays out: it is megabytes of base64.
		{LoadResult{Module: &Module{Name: "p", Image: []byte{1, 2, 3}}, Transition: time.Second},
			`{"module":{"path":"","name":"p","info":{"name":"","vermagic":"","description":"","license":"","src_version":"",` +
				`"version":"","author":"","livepatch":false,"retpoline":false,"in_tree":false,"depends":[],"fields":[]},` +
				`"signed":false,"compression":"none"},"transition_ns":1000000000,"retired":[],"handover_ns":0}`},
		{&OpError{Op: "finit_module", Module: "p", Kind: ErrVermagic, Err: syscall.ENOEXEC},
			`{"op":"finit_module","module":"p","kind":"` + ErrVermagic.Error() + `","err":"` + syscall.ENOEXEC.Error() + `"}`},
		{&StalledError{Patch: "p", RevertErr: errors.New("busy")}, `{"patch":"p","tasks":[],"reverted":false,"revert_err":"busy"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.in)
		require.NoError(t, err)
		assert.JSONEq(t, c.want, string(b))
	}
}

func TestLoggerEventKindAsText(t *testing.T) {
	var buf bytes.Buffer
	s := &System{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	s.reporter(klpkit.OpLoad, nil)(Event{Kind: EventBusyRetry, Module: "p", Attempt: 2})
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	assert.Equal(t, "busy-retry", rec["event"])
}

func TestEventAsProgress(t *testing.T) {
	var got []klpkit.Progress
	s := &System{}
	report := s.reporter(klpkit.OpUnload, func(p klpkit.Progress) { got = append(got, p) })
	report(Event{Kind: EventDisabling, Module: "p"})
	report(Event{Kind: EventBusyRetry, Module: "p", Attempt: 1})
	require.Len(t, got, 2)
	assert.Equal(t, klpkit.Progress{Op: klpkit.OpUnload, Step: "disabling", Subject: "p", Message: "disabling p",
		Detail: Event{Kind: EventDisabling, Module: "p"}}, got[0])
	assert.Equal(t, "p is busy: attempt 2", got[1].Message)
}
