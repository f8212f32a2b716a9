module github.com/klpkit/klpkit/examples/fleet-agent

go 1.26.0

require (
	github.com/klpkit/klpkit v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/ProtonMail/go-crypto v1.5.2 // indirect
	github.com/cavaliergopher/cpio v1.0.1 // indirect
	github.com/cloudflare/circl v1.6.3 // indirect
	github.com/google/rpmpack v0.7.1 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/klauspost/pgzip v1.2.6 // indirect
	github.com/sourcegraph/go-diff v0.10.0 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/arch v0.33.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/klpkit/klpkit => ../..
