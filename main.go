// Command tokenctl administers registration tokens, auth tokens and sensors
// on VMware/Broadcom SSP, VMware NSX, Prisma SD-WAN and agent-config.
package main

import (
	"os"

	"github.com/tokenctl/tokenctl/cmd"
)

func main() {
	os.Exit(cmd.Main())
}
