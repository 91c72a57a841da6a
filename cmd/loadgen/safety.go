package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
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
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		h, err := loopbackHost(host)
		if err != nil {
			return nil, err
		}
		return d.DialContext(ctx, network, net.JoinHostPort(h, port))
	}
}

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
