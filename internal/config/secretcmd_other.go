//go:build !unix

package config

import "os/exec"

// ownProcessGroup leaves cmd as it is: without Unix process groups,
// cancelling kills the command itself.
func ownProcessGroup(*exec.Cmd) {}
