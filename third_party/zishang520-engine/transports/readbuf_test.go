package transports

import (
	"bufio"
	"io"
	"testing"
)

// orderbell: the read buffer a parked connection lets go of (readbuf.go).
func TestReadBufferReleasedAndRestored(t *testing.T) {
	server, client := tcpPair(t)
	br := bufio.NewReaderSize(server, 288)
	b := readBuffer{br: br, conn: server, size: br.Size()}

	// With its buffer in place, restore keeps it, and what it holds.
	if _, err := client.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	if c, err := br.ReadByte(); err != nil || c != 'a' {
		t.Fatalf("read %q, %v", c, err)
	}
	b.restore()
	if c, err := br.ReadByte(); err != nil || c != 'b' {
		t.Fatalf("after a restore with nothing released: read %q, %v; want the byte already buffered", c, err)
	}

	b.release()
	if br.Size() != 0 {
		t.Fatalf("released, the reader still holds %d bytes of buffer", br.Size())
	}
	if _, err := client.Write([]byte("cd")); err != nil {
		t.Fatal(err)
	}
	b.restore()
	if br.Size() != 288 {
		t.Fatalf("restored buffer: %d bytes, want 288", br.Size())
	}
	got := make([]byte, 2)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "cd" {
		t.Fatalf("after the restore: read %q, %v; want what came meanwhile", got, err)
	}
}
