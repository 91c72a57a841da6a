package transports

import (
	"bytes"
	"io"
	"sync"
)

// orderbell patch: a WebSocket message is read into a pooled scratch buffer
// and kept as an exact-size copy. Upstream read it with ReadFrom into a new
// types.Buffer, which takes 512 bytes and then, since fewer than 512 were
// left free, 1,024 more before it sees the end: 1.5 KB of garbage for a
// one-byte pong ("3"), a heartbeat of every connection every 25 s, and for
// each connection's CONNECT packet.
var scratchPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledScratch bounds what a pooled scratch buffer may keep: one large
// message must not pin its size in the pool.
const maxPooledScratch = 64 << 10

// readMessage reads r to its end and returns what it read in a slice of
// exactly that length (empty, not nil, for an empty message), and the
// first error other than io.EOF.
func readMessage(r io.Reader) ([]byte, error) {
	s := scratchPool.Get().(*bytes.Buffer)
	s.Reset()
	_, err := s.ReadFrom(r)
	data := append(make([]byte, 0, s.Len()), s.Bytes()...)
	if s.Cap() <= maxPooledScratch {
		scratchPool.Put(s)
	}
	return data, err
}
