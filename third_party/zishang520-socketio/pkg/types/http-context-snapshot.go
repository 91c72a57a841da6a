package types

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
)

// orderbell patch: a RequestSnapshot is what an upgraded connection's first
// request is still asked for once its response is over (the Engine.IO socket
// kept the whole request for the session's life): its method, URI, host,
// remote address, TLS state and the headers an application chose to keep.
// Upstream's socket kept the request with its parsed headers, its response
// and their contexts, about 3 KB per idle WebSocket connection in orderbell;
// a snapshot is a few hundred bytes.
type RequestSnapshot struct {
	method, requestURI, host, remoteAddr, proto string
	tls                                         *tls.ConnectionState
	header                                      []string // name, value, name, value, …
	headerBuf                                   [4]string
}

// Snapshot takes c's request's snapshot, with the headers named in keep
// (every value of each; names canonicalised).
//
// Its strings are copied, so that the snapshot pins none of the request's
// buffers, into one string (a copy each would be five or more objects per
// connection for the collector to mark), and its first two headers are
// kept in the snapshot itself.
func (c *HttpContext) Snapshot(keep ...string) *RequestSnapshot {
	r := c.request
	s := &RequestSnapshot{
		method: r.Method, requestURI: r.RequestURI, host: r.Host,
		remoteAddr: r.RemoteAddr, proto: r.Proto, tls: r.TLS,
	}
	s.header = s.headerBuf[:0]
	for _, name := range keep {
		name = http.CanonicalHeaderKey(name)
		for _, v := range r.Header[name] {
			s.header = append(s.header, name, v)
		}
	}

	// The strings to copy: the fields, then the header values.
	var ptrs [9]*string
	strs := append(ptrs[:0], &s.method, &s.requestURI, &s.host, &s.remoteAddr, &s.proto)
	for i := 1; i < len(s.header); i += 2 {
		strs = append(strs, &s.header[i])
	}
	n := 0
	for _, f := range strs {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range strs {
		b.WriteString(*f)
	}
	all, at := b.String(), 0
	for _, f := range strs {
		*f = all[at : at+len(*f)]
		at += len(*f)
	}
	return s
}

// Context builds a context for the snapshot's request: its getters
// (Request, Headers, Query, Method, Host, Path, UserAgent, Secure) answer
// from the snapshot; it is finished (IsDone, Done closed) and refuses to be
// written to.
func (s *RequestSnapshot) Context() *HttpContext {
	header := make(http.Header, len(s.header)/2)
	for i := 0; i < len(s.header); i += 2 {
		header[s.header[i]] = append(header[s.header[i]], s.header[i+1])
	}
	u, err := url.ParseRequestURI(s.requestURI)
	if err != nil {
		u = &url.URL{}
	}
	major, minor, _ := http.ParseHTTPVersion(s.proto)
	c := &HttpContext{
		EventEmitter: NewEventEmitter(),
		request: &http.Request{
			Method: s.method, URL: u, Proto: s.proto, ProtoMajor: major, ProtoMinor: minor,
			Header: header, Host: s.host, RemoteAddr: s.remoteAddr, RequestURI: s.requestURI, TLS: s.tls,
		},
		response: detachedResponse{},
		ctx:      context.Background(),
		done:     make(chan struct{}),
	}
	c.state.Store(httpResponseCommitted | httpContextFinalizing)
	close(c.done)
	return c
}

// detachedResponse stands in for a response that is over.
type detachedResponse struct{}

func (detachedResponse) Header() http.Header        { return http.Header{} }
func (detachedResponse) Write([]byte) (int, error)  { return 0, ErrResponseAlreadyWritten }
func (detachedResponse) WriteHeader(statusCode int) {}
