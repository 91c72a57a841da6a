package types

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// orderbell: a Buffer with no storage yet reads through a pooled scratch
// buffer and keeps an exact copy (patch 11), whatever it reads from.

// checkExact fails unless b holds want in storage of about its size: its
// length rounded up to a size class, not the 512 bytes or more that
// growing by MinRead took.
func checkExact(t *testing.T, what string, b *StringBuffer, want string) {
	t.Helper()
	if b.String() != want {
		t.Fatalf("%s: read %.10q (%d bytes), want %.10q (%d bytes)", what, b.String(), b.Len(), want, len(want))
	}
	if c := b.Cap(); c > len(want)+len(want)/8+8 {
		t.Errorf("%s: capacity %d for %d bytes", what, c, len(want))
	}
}

var messages = []string{"3", "", `40{"token":"abc"}`, strings.Repeat("x", 3*maxScratch), "after one past the pool's bound"}

// A WebSocket message: a reader of unknown length, read in pieces.
func TestReadFromAReaderKeepsExactlyItsBytes(t *testing.T) {
	for _, msg := range messages {
		b := NewStringBuffer(nil).(*StringBuffer)
		n, err := b.ReadFrom(iotest.HalfReader(strings.NewReader(msg)))
		if err != nil || n != int64(len(msg)) {
			t.Fatalf("%.10q: %d bytes, %v", msg, n, err)
		}
		checkExact(t, "from a reader", b, msg)
	}
}

// What the parsers do: read a packet's type byte, then copy the rest of
// the buffer it came in. The source is left empty and reset, as upstream's
// last Read of it left it.
func TestReadFromABufferKeepsExactlyItsBytes(t *testing.T) {
	sources := map[string]func(string) source{
		"StringBuffer": func(s string) source { return NewStringBufferString(s).(*StringBuffer) },
		"bytes.Buffer": func(s string) source { return bytes.NewBufferString(s) },
	}
	for name, newSource := range sources {
		for _, msg := range messages[:4] {
			src, rest := newSource(msg), msg
			if msg != "" {
				if _, err := src.Read(make([]byte, 1)); err != nil {
					t.Fatal(err)
				}
				rest = msg[1:]
			}
			b := NewStringBuffer(nil).(*StringBuffer)
			if _, err := b.ReadFrom(src); err != nil {
				t.Fatal(err)
			}
			checkExact(t, name, b, rest)
			if src.Len() != 0 || src.UnreadByte() == nil {
				t.Errorf("%s %.10q: source not emptied and reset (%d bytes left)", name, msg, src.Len())
			}
		}
	}
}

// source is what the test needs of a buffer read from.
type source interface {
	io.Reader
	Len() int
	UnreadByte() error
}

func TestReadFromReturnsTheReadersErrorAndWhatCameBefore(t *testing.T) {
	boom := errors.New("connection reset")
	b := NewStringBuffer(nil).(*StringBuffer)
	n, err := b.ReadFrom(io.MultiReader(strings.NewReader("40"), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || n != 2 || b.String() != "40" {
		t.Fatalf("%d bytes %q, %v; want 2 bytes %q, %v", n, b.String(), err, "40", boom)
	}
}

// A Buffer that has storage appends to it as upstream did.
func TestReadFromAppendsToABufferWithStorage(t *testing.T) {
	b := NewBufferString("ab")
	if _, err := b.ReadFrom(strings.NewReader("cd")); err != nil || b.String() != "abcd" {
		t.Fatalf("%q, %v", b.String(), err)
	}
}

func TestReadFromAllocatesOnlyItsCopy(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled buffers at random")
	}
	r := strings.NewReader("")
	var b Buffer
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset("3")
		b = Buffer{}
		if _, err := b.ReadFrom(r); err != nil || b.String() != "3" {
			t.Fatalf("read %q, %v", b.String(), err)
		}
	})
	if allocs > 1 {
		t.Fatalf("%.1f allocations to read a pong; want 1, its copy", allocs)
	}
}
