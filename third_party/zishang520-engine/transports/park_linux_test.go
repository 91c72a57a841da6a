package transports

import (
	"net"
	"testing"
	"time"
)

// orderbell: tests of the reader parking (park_linux.go), on real loopback
// TCP sockets.

// tcpPair is a connected loopback pair: the server's end and the client's.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { _ = server.Close(); _ = client.Close() })
	return server, client
}

// parkedConn is a server end with its parking state; resumed receives once
// per reader started by the watcher or by wake.
func parkedConn(t *testing.T) (p *readerPark, server, client net.Conn, resumed chan struct{}) {
	t.Helper()
	server, client = tcpPair(t)
	resumed = make(chan struct{}, 4)
	p = newReaderPark(server, func() { resumed <- struct{}{} })
	if p == nil {
		t.Fatal("no parking on a TCP socket")
	}
	return p, server, client, resumed
}

func expectResumed(t *testing.T, resumed chan struct{}, what string) {
	t.Helper()
	select {
	case <-resumed:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no reader was started", what)
	}
}

func expectNotResumed(t *testing.T, resumed chan struct{}, what string) {
	t.Helper()
	// Nothing to wait for: a reader would be started by the watcher at
	// once; give it a moment to show that it is not.
	select {
	case <-resumed:
		t.Fatalf("%s: a reader was started", what)
	case <-time.After(50 * time.Millisecond):
	}
}

func registered(p *readerPark) bool {
	w := theWatcher()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.parked[int32(p.fd)] == p
}

func TestParkedReaderStartsOnData(t *testing.T) {
	p, server, client, resumed := parkedConn(t)
	if !p.park() {
		t.Fatal("park on an open, quiet socket did not park")
	}
	expectNotResumed(t, resumed, "no data yet")
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	expectResumed(t, resumed, "data arrived")
	if registered(p) {
		t.Error("still registered after its reader was started")
	}
	// The reader reads; parked again, the next byte starts it again.
	if _, err := server.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if !p.park() {
		t.Fatal("second park did not park")
	}
	if _, err := client.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	expectResumed(t, resumed, "second byte")
}

// Data that is already waiting when the reader parks starts it at once.
func TestParkWithDataWaiting(t *testing.T) {
	p, server, client, resumed := parkedConn(t)
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	// Wait until the byte is in the server's socket.
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := p.rc.Read(func(fd uintptr) bool { return hasData(fd) }); err != nil {
		t.Fatal(err)
	}
	if !p.park() {
		t.Fatal("did not park")
	}
	expectResumed(t, resumed, "data waiting before parking")
}

func TestParkedReaderStartsWhenThePeerLeaves(t *testing.T) {
	p, _, client, resumed := parkedConn(t)
	if !p.park() {
		t.Fatal("did not park")
	}
	_ = client.Close()
	expectResumed(t, resumed, "the client closed")
}

// Closing a socket takes it out of the epoll set without an event: wake
// starts the reader (to see the close) and drops the registration.
func TestWakeAfterClose(t *testing.T) {
	p, server, _, resumed := parkedConn(t)
	if !p.park() {
		t.Fatal("did not park")
	}
	_ = server.Close()
	expectNotResumed(t, resumed, "closed, not woken")
	p.wake()
	expectResumed(t, resumed, "woken after the close")
	if registered(p) {
		t.Error("still registered after wake")
	}
	// A closed connection does not park: its reader reads (and sees the
	// close) itself.
	if p.park() {
		t.Error("park on a closed connection parked")
	}
	// wake on a reader that is running starts nothing.
	p.wake()
	expectNotResumed(t, resumed, "woken while running")
}
