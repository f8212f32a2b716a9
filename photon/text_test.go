// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTextRoundTrip(t *testing.T) {
	type all struct {
		Kernel    Kernel    `json:"kernel"`
		Flavor    Flavor    `json:"flavor"`
		Release   Release   `json:"release"`
		Version   Version   `json:"version"`
		Threshold Threshold `json:"threshold"`
	}
	cases := []struct {
		in   all
		want string
	}{
		{all{MustParseKernel("5.10.118-rt67-3.ph4-rt"), RT, 4, V(5, 10, 118), th(5, 10, 118, 2)},
			`{"kernel":"5.10.118-rt67-3.ph4-rt","flavor":"rt","release":"4.0","version":"5.10.118","threshold":"5.10.118-2"}`},
		{all{MustParseKernel("6.1.10-1.acvp.kat.ph5"), Generic, 5, V(6, 1, 0), Threshold{}},
			`{"kernel":"6.1.10-1.acvp.kat.ph5","flavor":"generic","release":"5.0","version":"6.1.0","threshold":""}`},
		{all{Version: V(0, 0, 0)}, `{"kernel":"","flavor":"","release":"","version":"0.0.0","threshold":""}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.in)
		require.NoError(t, err)
		assert.JSONEq(t, c.want, string(b))
		var back all
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, c.in, back)
	}
}

func TestUnmarshalTextRefuses(t *testing.T) {
	cases := []struct {
		into any
		in   string
	}{
		{new(Kernel), `"5.10.118-3"`},
		{new(Flavor), `"esxi"`},
		{new(Release), `"five"`},
		{new(Release), `"0.0"`},
		{new(Version), `"5.10"`},
		{new(Threshold), `"5.10.118"`},
		{new(Threshold), `"5.10.118-x"`},
	}
	for _, c := range cases {
		assert.Error(t, json.Unmarshal([]byte(c.in), c.into), c.in)
	}
	var r Release
	require.NoError(t, json.Unmarshal([]byte(`"5"`), &r))
	assert.Equal(t, Release(5), r)
}

func TestSupportReasons(t *testing.T) {
	cases := []struct {
		kernel, arch string
		want         SupportReason
	}{
		{"5.10.118-3.ph4", "aarch64", ReasonArchNotSupported},
		{"5.10.118-3.ph4", "riscv64", ReasonArchNotSupported},
		{"4.4.8-1.ph2", "x86_64", ReasonReleaseTooOld},
		{"6.12.1-1.ph6", "x86_64", ReasonUnknownRelease},
		{"6.1.10-1.ph5-secure", "x86_64", ReasonFlavorNotSupported},
		{"5.10.118-3.ph4-esx", "x86_64", ReasonFlavorNotSupported},
		{"5.10.118-1.ph4", "x86_64", ReasonBelowThreshold},
		{"6.1.90-1.ph5", "x86_64", ReasonBadBuild},
	}
	reasons := []SupportReason{ReasonArchNotSupported, ReasonReleaseTooOld, ReasonUnknownRelease, ReasonUnknownFlavor,
		ReasonFlavorNotSupported, ReasonBelowThreshold, ReasonBadBuild}
	for _, c := range cases {
		err := MustParseKernel(c.kernel).LivepatchableOn(c.arch)
		var se *SupportError
		require.True(t, errors.As(err, &se), c.kernel)
		assert.Equal(t, c.want, se.Reason, c.kernel)
		assert.ErrorIs(t, err, ErrNotLivepatchable)
		for _, r := range reasons {
			assert.Equal(t, r == c.want, errors.Is(err, r), "%s: errors.Is %s", c.kernel, r)
		}
		b, err := json.Marshal(se)
		require.NoError(t, err)
		var m map[string]string
		require.NoError(t, json.Unmarshal(b, &m))
		assert.Equal(t, string(c.want), m["reason"])
		assert.Equal(t, c.kernel, m["kernel"])
		assert.NotEmpty(t, m["detail"])
	}
}

func TestSupportReasonUnknownFlavor(t *testing.T) {
	// The uname grammar knows only shipped flavors; a Kernel built by hand
	// can still name another.
	k := Kernel{Version: V(5, 10, 118), Build: 3, Photon: 4, Flavor: "gaming"}
	err := k.Livepatchable()
	assert.ErrorIs(t, err, ReasonUnknownFlavor)
	assert.NotErrorIs(t, err, ReasonFlavorNotSupported)
}
