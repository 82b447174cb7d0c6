module github.com/tokenctl/tokenctl

go 1.26.0

require github.com/gofrs/flock v0.13.2

require golang.org/x/sys v0.50.0 // indirect
