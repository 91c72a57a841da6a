package dbtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards TCP to a database server until Cut, which also drops
// every open connection, or Hang; Restore forwards again. It is how tests
// take a MariaDB server away from orderbell and give it back.
type Proxy struct {
	addr   string
	target string
	mu     sync.Mutex
	down   bool
	hung   bool // with down: accept, then say nothing
	conns  []net.Conn
}

// BehindProxy returns a Proxy to the server of mysqlURL (a DATABASE_URL
// from Engines) and the same URL through it, with a 2 s read timeout so
// that a server that stops answering is noticed quickly.
func BehindProxy(t testing.TB, mysqlURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(mysqlURL)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	q := u.Query()
	q.Set("readTimeout", "2s")
	u.RawQuery = q.Encode()
	return p, u.String()
}

func newProxy(t testing.TB, target string) *Proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{addr: ln.Addr().String(), target: target}
	t.Cleanup(func() { _ = ln.Close(); p.Cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down && p.hung {
				p.conns = append(p.conns, c)
				p.mu.Unlock()
				continue
			}
			if p.down {
				p.mu.Unlock()
				_ = c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				_ = c.Close()
				continue
			}
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() { _, _ = io.Copy(c, s); _ = c.Close() }()
		}
	}()
	return p
}

// Cut refuses new connections and drops every open one.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// Hang drops every open connection, then accepts new ones and says
// nothing on them: a database that stopped answering.
func (p *Proxy) Hang() {
	p.Cut()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hung = true
}

// Restore forwards again.
func (p *Proxy) Restore() {
	p.Cut()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.hung = false, false
}
