// SPDX-License-Identifier: Apache-2.0

package photon_test

import (
	"errors"
	"fmt"

	"github.com/klpkit/klpkit/photon"
)

func ExampleParseKernel() {
	k, err := photon.ParseKernel("5.10.118-rt67-3.ph4-rt")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.Version, k.Build, k.RTLevel, k.Photon, k.Flavor)
	fmt.Println(k.Package(), k.SourceRPM())
	fmt.Println(k.DebuginfoRPM())
	fmt.Println("CONFIG_LOCALVERSION=" + k.LocalVersion())
	// Output:
	// 5.10.118 3 67 4.0 rt
	// linux-rt linux-rt-5.10.118-3.ph4.src.rpm
	// linux-rt-debuginfo-5.10.118-3.ph4.x86_64.rpm
	// CONFIG_LOCALVERSION=-3.ph4-rt
}

func ExampleParseKernel_malformed() {
	_, err := photon.ParseKernel("5.10.118-3.ph4-esxi")
	fmt.Println(err)
	// Output:
	// photon: "5.10.118-3.ph4-esxi" is not a Photon kernel release (uname -r): unknown flavor "esxi" (known: aws, esx, rt, secure; generic has no suffix)
}

func ExampleKernel_Livepatchable() {
	for _, s := range []string{"6.1.118-7.ph5", "6.1.100-2.ph5", "5.10.118-2.ph4-esx", "4.19.245-5.ph3-aws"} {
		err := photon.MustParseKernel(s).Livepatchable()
		switch {
		case err == nil:
			fmt.Println(s, "can be livepatched")
		case errors.Is(err, photon.ErrNotLivepatchable):
			fmt.Println(err)
		}
	}
	// Output:
	// 6.1.118-7.ph5 can be livepatched
	// photon: 6.1.100-2.ph5 cannot be livepatched: builds 6.1.83-5 to 6.1.118-6 are built with CONFIG_GCC_PLUGIN_LATENT_ENTROPY, which breaks livepatch builds; fixed in 6.1.118-7
	// photon: 5.10.118-2.ph4-esx cannot be livepatched: Photon's esx kernels are built without ftrace and CONFIG_LIVEPATCH
	// photon: 4.19.245-5.ph3-aws cannot be livepatched: linux-aws kernels of Photon 3.0 have CONFIG_LIVEPATCH from 4.19.247-2 on
}

// A refusal's Reason is a code to branch on; each is an errors.Is target.
func ExampleSupportReason() {
	for _, s := range []string{"6.1.100-2.ph5", "5.10.118-2.ph4-esx", "4.19.245-5.ph3-aws"} {
		err := photon.MustParseKernel(s).Livepatchable()
		var se *photon.SupportError
		if errors.As(err, &se) {
			fmt.Println(s, se.Reason, errors.Is(err, photon.ReasonBelowThreshold))
		}
	}
	// Output:
	// 6.1.100-2.ph5 bad-build false
	// 5.10.118-2.ph4-esx flavor-not-supported false
	// 4.19.245-5.ph3-aws below-threshold true
}

func ExampleFlavors() {
	fs, _ := photon.Flavors(5)
	for _, f := range fs {
		fmt.Printf("%-8s %-18s livepatch=%v\n", f.Flavor, f.ConfigFile, f.Livepatch)
	}
	// Output:
	// generic  config_x86_64      livepatch=true
	// rt       config-rt          livepatch=true
	// aws      config-aws         livepatch=true
	// esx      config-esx_x86_64  livepatch=false
	// secure   config-secure      livepatch=false
}
