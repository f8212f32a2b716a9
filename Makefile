# SPDX-License-Identifier: Apache-2.0
# klpkit developer targets. `make test` is the README's test command.
GO ?= go
# Static test binaries: VM tests run them as the guest's /init, and a static
# build skips vmtest's rebuild of each test binary.
export CGO_ENABLED ?= 0
# Where the QEMU test lab keeps its kernel, packages and source tree.
KLPKIT_LAB_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/klpkit/lab
export KLPKIT_LAB_DIR

.PHONY: all build test test-unit lint bench deps lab lab-all lab-debian lab-5.10 lab-6.1-rt lab-photon lab-photon-ph4 demo fuzz rpms clean

all: build lint test-unit

build:
	$(GO) build ./...

# Debian packages the tests need (root).
deps:
	apt-get update -qq
	grep -v '^\s*#' .ci/packages.txt | sed 's/#.*//' | xargs apt-get install -y --no-install-recommends

# The whole suite, VM tests included: prepares the whole lab first (cached).
test: lab-all
	KLPKIT_VMTEST=1 ./.ci/gotest -count=1 -timeout 45m ./...

# Fast unit tests only: VM tests skip with a message.
test-unit:
	./.ci/gotest ./...

# staticcheck comes from its own module (tools/go.mod), so that programs
# importing klpkit inherit none of its requirements.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool -modfile=tools/go.mod staticcheck ./...

# Benchmarks; the build pipeline's figures come as ratios to a kbuild baseline.
bench: lab-all
	./scripts/bench

# Short fuzz runs of every fuzz target (longer: FUZZTIME=5m make fuzz).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $$pkg || exit 1; \
	  done; done

# The lab the demo needs: the Debian lab kernel with its source (about a
# minute on a fresh machine).
lab: lab-debian

# The whole lab, as `make test` needs it: the Debian lab kernel, the Photon
# lab built from it (a Photon-versioned kernel per flavor and a
# Photon-layout repository: most of the time), the second Debian
# generation, bullseye's 5.10, bookworm's rt kernel, and the Photon 4.0 lab
# built from the 5.10 one (about 10 minutes from a clean directory here at
# load 2-3: its kernel build 7m31s, the tarball 1m24s).
lab-all: lab-debian lab-photon lab-5.10 lab-6.1-rt lab-photon-ph4

lab-debian:
	$(GO) run ./internal/lab/cmd/klplab prepare

# Debian 11's 5.10 kernel, its source prepared with gcc-10 in a bullseye
# toolchain root (root; in $(KLPKIT_LAB_DIR)/5.10).
lab-5.10:
	$(GO) run ./internal/lab/cmd/klplab prepare --generation 5.10

# Debian 12's PREEMPT_RT 6.1 kernel, its source linux-source-6.1 with the
# rt headers and Kconfig changes (in $(KLPKIT_LAB_DIR)/6.1-rt).
lab-6.1-rt:
	$(GO) run ./internal/lab/cmd/klplab prepare --generation 6.1-rt

# Its updates repository carries klpkit's own RPMs for Photon 5.0 (make rpms,
# reproducible: an unchanged commit republishes nothing).
LAB_RPMDIR = $(KLPKIT_LAB_DIR)/klpkit-rpms
lab-photon: lab-debian
	rm -rf $(LAB_RPMDIR)
	$(GO) run ./internal/lab/selfrpm/cmd/selfrpm -o $(LAB_RPMDIR) -dists ph5
	$(GO) run ./internal/lab/photonlab/cmd/photonlab prepare --packages $(LAB_RPMDIR)

# The Photon 4.0 lab: a 5.10.<n>-1.ph4 generic kernel from the 5.10 lab's
# Debian source, built with its gcc-10 in its toolchain root, and a Photon
# 4.0 repository (in $(KLPKIT_LAB_DIR)/photon/5.10.<n>-1.ph4).
lab-photon-ph4: lab-5.10
	$(GO) run ./internal/lab/photonlab/cmd/photonlab prepare --generation ph4

demo: lab-debian
	$(GO) run ./internal/lab/cmd/klplab demo

# klpkit's commands as Photon 4.0 and 5.0 RPMs (klpkit-kpatch, klpkit-kpatch-build,
# klpkit-kpatch-utils) in $(RPMDIR). Reproducible: built at the commit's time
# (or SOURCE_DATE_EPOCH). Signed when RPM_SIGNING_KEY names an OpenPGP private key.
RPMDIR ?= rpms
rpms:
	$(GO) run ./internal/lab/selfrpm/cmd/selfrpm -o $(RPMDIR) $(if $(RPM_SIGNING_KEY),-key $(RPM_SIGNING_KEY))

clean:
	$(GO) clean -testcache
