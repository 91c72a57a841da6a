package types

import (
	"bytes"
	"strings"
	"testing"
)

// source is what the test needs of a buffer read from.
type source interface {
	Len() int
	Read([]byte) (int, error)
	UnreadByte() error
}

// orderbell: ReadFrom takes a buffer's unread bytes in one piece, growing
// by exactly that much, and leaves the source as upstream's loop did:
// empty and reset (patch 11).
func TestReadFromABufferTakesExactlyItsBytes(t *testing.T) {
	sources := map[string]func(string) source{
		"Buffer":       func(s string) source { return NewBufferString(s) },
		"StringBuffer": func(s string) source { return NewStringBufferString(s).(*StringBuffer) },
		"BytesBuffer":  func(s string) source { return NewBytesBufferString(s).(*BytesBuffer) },
		"bytes.Buffer": func(s string) source { return bytes.NewBufferString(s) },
	}
	for name, newSource := range sources {
		for _, msg := range []string{"3", "", `40{"token":"abc"}`, strings.Repeat("x", 3*MinRead)} {
			// What the parsers do: read the packet type, copy the rest.
			src, rest := newSource(msg), msg
			if msg != "" {
				if _, err := src.Read(make([]byte, 1)); err != nil {
					t.Fatal(err)
				}
				rest = msg[1:]
			}
			dst := NewStringBuffer(nil)
			n, err := dst.ReadFrom(src)
			if err != nil || n != int64(len(rest)) || dst.String() != rest {
				t.Fatalf("%s %.10q: read %d bytes %.10q, %v; want %d", name, msg, n, dst.String(), err, len(rest))
			}
			// The rest's size, rounded up to a size class (a write of
			// 64 bytes or fewer takes 64): not 512 bytes or more.
			if c := dst.Cap(); c > max(64, len(rest)+len(rest)/8) {
				t.Errorf("%s %.10q: capacity %d for %d bytes", name, msg, c, len(rest))
			}
			if src.Len() != 0 {
				t.Errorf("%s %.10q: %d bytes left in the source", name, msg, src.Len())
			}
			if src.UnreadByte() == nil {
				t.Errorf("%s %.10q: UnreadByte works after ReadFrom; upstream's last Read had reset the source", name, msg)
			}
		}
	}
}

// Any other reader is read as upstream read it.
func TestReadFromOtherReaders(t *testing.T) {
	b := NewStringBuffer(nil)
	if _, err := b.ReadFrom(strings.NewReader("hello")); err != nil || b.String() != "hello" {
		t.Fatalf("%q, %v", b.String(), err)
	}
}
