//go:build !linux

package transports

import "net"

// orderbell patch: readWaiter waits only on Linux (wait_linux.go); elsewhere
// the reader blocks in gorilla's read, as upstream.
func readWaiter(net.Conn) func() { return nil }
