// SPDX-License-Identifier: Apache-2.0

package rpmpkg

// RPM tag numbers this package reads or writes (rpm's include/rpm/rpmtag.h).
const (
	tagHeaderSignatures = 62 // region tag of the signature header
	tagHeaderImmutable  = 63 // region tag of the main header

	sigTagSize        = 1000
	sigTagPGP         = 1002 // OpenPGP (RSA) over header+payload
	sigTagGPG         = 1005 // OpenPGP (DSA) over header+payload
	sigTagPayloadSize = 1007
	sigTagDSA         = 267 // OpenPGP (DSA) over the header
	sigTagRSA         = 268 // OpenPGP (RSA, EdDSA) over the header
	sigTagSHA1        = 269
	sigTagSHA256      = 273

	tagName              = 1000
	tagDistribution      = 1010
	tagSourceRPM         = 1044
	tagPreInProg         = 1085
	tagPostInProg        = 1086
	tagPreUnProg         = 1087
	tagPostUnProg        = 1088
	tagSourcePackage     = 1106
	tagPayloadCompressor = 1125
	tagPreTrans          = 1151
	tagPostTrans         = 1152
	tagPayloadDigest     = 5092
	tagPayloadDigestAlgo = 5093
)

// rpm header data types.
const (
	typeNull        = 0
	typeChar        = 1
	typeInt8        = 2
	typeInt16       = 3
	typeInt32       = 4
	typeInt64       = 5
	typeString      = 6
	typeBin         = 7
	typeStringArray = 8
	typeI18NString  = 9
)

// rpm's hash algorithm numbers (PGPHASHALGO_*).
const (
	hashSHA1   = 2
	hashSHA256 = 8
	hashSHA384 = 9
	hashSHA512 = 10
	hashSHA224 = 11
)

const (
	leadSize    = 96
	headerMagic = "\x8e\xad\xe8\x01"
)
