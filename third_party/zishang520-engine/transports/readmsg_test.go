package transports

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// orderbell: a message is kept in a slice of its own length (readmsg.go).
func TestReadMessageKeepsWhatItReadAndNoMore(t *testing.T) {
	big := strings.Repeat("x", 3*maxPooledScratch) // past what the pool keeps
	for _, msg := range []string{"3", "", `40{"token":"abc"}`, big, "after the big one"} {
		data, err := readMessage(iotest.HalfReader(strings.NewReader(msg)))
		if err != nil {
			t.Fatalf("%.20q: %v", msg, err)
		}
		if string(data) != msg {
			t.Fatalf("read %.20q (%d bytes), want %.20q (%d bytes)", data, len(data), msg, len(msg))
		}
		if data == nil {
			t.Fatalf("%.20q: nil slice; want an empty one", msg)
		}
		// The slice's capacity is its length rounded up to the
		// allocator's size class (8 bytes for a pong): not the 1.5 KB
		// a Buffer's ReadFrom grew to.
		if cap(data) > len(data)+len(data)/8+8 {
			t.Fatalf("%.20q: capacity %d for %d bytes", msg, cap(data), len(data))
		}
	}
}

func TestReadMessageAllocatesOnlyItsCopy(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled buffers at random")
	}
	r := strings.NewReader("")
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset("3")
		if data, err := readMessage(r); err != nil || string(data) != "3" {
			t.Fatalf("read %q, %v", data, err)
		}
	})
	if allocs > 1 {
		t.Fatalf("%.1f allocations to read a pong; want 1, its copy", allocs)
	}
}

func TestReadMessageReturnsTheReadersError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("40"), iotest.ErrReader(boom))
	data, err := readMessage(r)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if !bytes.Equal(data, []byte("40")) {
		t.Fatalf("read %q before the error, want %q", data, "40")
	}
}
