/* jitterentropy_canister_wrapper.c (fixture) */
