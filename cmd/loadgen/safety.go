package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// loopbackHost accepts only this machine: a 127.0.0.0/8 or ::1 literal, or
// "localhost" (taken as 127.0.0.1 without asking a resolver).
func loopbackHost(host string) (string, error) {
	if strings.EqualFold(host, "localhost") {
		return "127.0.0.1", nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("refusing host %q: the load generator only targets 127.0.0.1 (loopback)", host)
	}
	return ip.String(), nil
}

// targetURL checks -url: http, a loopback host and a port.
func targetURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("-url: want http://127.0.0.1:PORT, got scheme %q", u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("-url: no credentials in the URL")
	}
	host, err := loopbackHost(u.Hostname())
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: strings.TrimSuffix(u.Path, "/")}, nil
}

// loopbackDial dials only loopback addresses, whatever a URL or a redirect
// says: the last line of the "127.0.0.1 only" rule.
func loopbackDial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return loopbackDialFrom(d)
}

// Each loopback source address has ports of its own. connect(2) picks a
// local port by walking ip_local_port_range (32768–60999 here: 14,116 even
// ports, which connect prefers), and once one source holds more
// connections to the target than that, every new connection's walk takes
// milliseconds. 19,000 WebSockets from 127.0.0.1 did: each HTTP connection
// the pool then opened waited in that walk, and what looked like a 300 ms
// p99 at N = 19,000 was the generator's own (the same run with a wider
// port range: 6.8 ms). So the WebSockets alternate between two sources
// and the HTTP pool dials from a third; the target stays 127.0.0.1.
var (
	wsSources  = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 3)}
	httpSource = net.IPv4(127, 0, 0, 2)
)

// loopbackDialFrom is loopbackDial with the connection's source address
// taken from sources in turn, for IPv4 targets. The port is chosen at
// connect, not bind (IP_BIND_ADDRESS_NO_PORT), so that the kernel picks it
// per destination as it does without a source address.
func loopbackDialFrom(d *net.Dialer, sources ...net.IP) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dialers := make([]*net.Dialer, len(sources))
	for i, src := range sources {
		sd := *d
		sd.LocalAddr = &net.TCPAddr{IP: src}
		sd.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
			}); err != nil {
				return err
			}
			return serr
		}
		dialers[i] = &sd
	}
	var next atomic.Uint64
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		h, err := loopbackHost(host)
		if err != nil {
			return nil, err
		}
		dd := d
		if ip := net.ParseIP(h); ip.To4() != nil && len(dialers) > 0 {
			dd = dialers[next.Add(1)%uint64(len(dialers))]
		}
		return dd.DialContext(ctx, network, net.JoinHostPort(h, port))
	}
}

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (not in package
// syscall).
const ipBindAddressNoPort = 24

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit and
// returns the result: each connection is a file descriptor.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return lim.Cur, err
		}
	}
	return lim.Cur, nil
}

func newNetDialer() *net.Dialer { return &net.Dialer{Timeout: 10 * time.Second} }
