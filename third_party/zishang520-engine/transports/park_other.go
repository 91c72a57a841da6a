//go:build !linux

package transports

import "net"

// orderbell patch: readers end while idle only on Linux (park_linux.go).
type readerPark struct{}

func newReaderPark(net.Conn, func()) *readerPark { return nil }
func (*readerPark) park() bool                   { return false }
func (*readerPark) wake()                        {}
