package socket

import (
	"io"
	"strings"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

type alertPayload struct {
	OrderID int64             `json:"order_id"`
	Note    string            `json:"note"`
	Raw     []byte            `json:"raw,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Next    *alertPayload     `json:"next,omitempty"`
}

// parserText is the upstream encoder's text for packet: the oracle.
func parserText(t *testing.T, packet *parser.Packet) string {
	t.Helper()
	out := parser.NewEncoder().Encode(packet)
	if len(out) != 1 {
		t.Fatalf("the parser made %d buffers", len(out))
	}
	return out[0].String()
}

// TestEventFrameIsTheParsersText: for every packet the fast path takes, the
// frame is "4" and then byte for byte what the parser's encoder makes, and
// the text _encode hands the transports is that same text.
func TestEventFrameIsTheParsersText(t *testing.T) {
	id := uint64(18446744073709551615)
	zero := uint64(0)
	cases := map[string]*parser.Packet{
		"alert":          {Type: parser.EVENT, Nsp: "/", Data: []any{"SUBMIT_ORDER", alertPayload{OrderID: 7, Note: "two pizzas"}}},
		"pointer":        {Type: parser.EVENT, Nsp: "/", Data: []any{"ORDER_UPDATED", &alertPayload{OrderID: 1, Next: &alertPayload{OrderID: 2}}}},
		"escapes":        {Type: parser.EVENT, Nsp: "/", Data: []any{"e", alertPayload{Note: "<b>&amp;</b> \u2028\u2029 \"q\" \\ é 🍕 \x01"}}},
		"bytes in field": {Type: parser.EVENT, Nsp: "/", Data: []any{"e", alertPayload{Raw: []byte{0, 1, 2, 255}, Tags: map[string]string{"b": "2", "a": "1"}}}},
		"scalars":        {Type: parser.EVENT, Nsp: "/", Data: []any{"e", nil, true, 1.5, 42, int64(-9007199254740993), "s"}},
		"namespace":      {Type: parser.EVENT, Nsp: "/admin", Data: []any{"e", 1}},
		"no namespace":   {Type: parser.EVENT, Nsp: "", Data: []any{"e"}},
		"ack id":         {Type: parser.EVENT, Nsp: "/admin", Id: &id, Data: []any{"e", "x"}},
		"ack id zero":    {Type: parser.EVENT, Nsp: "/", Id: &zero, Data: []any{"e"}},
		"no arguments":   {Type: parser.EVENT, Nsp: "/", Data: []any{}},
	}
	for name, packet := range cases {
		t.Run(name, func(t *testing.T) {
			want := parserText(t, packet)
			frame, ok := encodeEventFrame(packet)
			if !ok {
				t.Fatalf("not taken")
			}
			if got := string(frame); got != "4"+want {
				t.Fatalf("frame\n got %q\nwant %q", got, "4"+want)
			}
			opts := &WriteOptions{}
			out := (&adapter{encoder: parser.NewEncoder()})._encode(packet, opts)
			if len(out) != 1 || out[0].String() != want {
				t.Fatalf("_encode text %v, want %q", out, want)
			}
			if opts.WsPreEncodedFrame == nil || opts.WsPreEncodedFrame.String() != "4"+want {
				t.Fatalf("_encode frame %v, want %q", opts.WsPreEncodedFrame, "4"+want)
			}
			// The text's bytes are the frame's: nothing can append into them.
			text := out[0].(*types.StringBuffer).Bytes()
			if cap(text) != len(text) {
				t.Fatalf("text has spare capacity %d", cap(text)-len(text))
			}
		})
	}
}

// TestEventFrameLeavesTheRestToTheParser: packets whose encoding the parser
// changes (binary, text readers, containers it rebuilds), other packet
// types and data that does not encode all take the parser's path, which
// then makes exactly what upstream made.
func TestEventFrameLeavesTheRestToTheParser(t *testing.T) {
	attachments := uint64(1)
	cases := map[string]*parser.Packet{
		"binary":        {Type: parser.EVENT, Nsp: "/", Data: []any{"e", []byte{1, 2}}},
		"reader":        {Type: parser.EVENT, Nsp: "/", Data: []any{"e", io.Reader(strings.NewReader("x"))}},
		"string buffer": {Type: parser.EVENT, Nsp: "/", Data: []any{"e", types.NewStringBufferString("x")}},
		"nested list":   {Type: parser.EVENT, Nsp: "/", Data: []any{"e", []any{1, 2}}},
		"map":           {Type: parser.EVENT, Nsp: "/", Data: []any{"e", map[string]any{"a": 1}}},
		"not a list":    {Type: parser.EVENT, Nsp: "/", Data: "e"},
		"no data":       {Type: parser.EVENT, Nsp: "/"},
		"ack":           {Type: parser.ACK, Nsp: "/", Data: []any{"e"}},
		"connect":       {Type: parser.CONNECT, Nsp: "/", Data: map[string]any{"sid": "x"}},
		"attachments":   {Type: parser.EVENT, Nsp: "/", Attachments: &attachments, Data: []any{"e"}},
		"cannot encode": {Type: parser.EVENT, Nsp: "/", Data: []any{"e", make(chan int)}},
	}
	for name, packet := range cases {
		t.Run(name, func(t *testing.T) {
			if frame, ok := encodeEventFrame(packet); ok {
				t.Fatalf("taken: %q", frame)
			}
		})
	}
	// What the parser does with data it cannot encode: the packet without it.
	packet := cases["cannot encode"]
	out := (&adapter{encoder: parser.NewEncoder()})._encode(packet, &WriteOptions{})
	if want := parserText(t, packet); len(out) != 1 || out[0].String() != want || want != "2" {
		t.Fatalf("_encode gave %v, the parser %q", out, want)
	}
}

// TestEventFrameBuffersAreNotShared: the pooled buffer is reused, so each
// frame must be a copy: earlier frames keep their bytes.
func TestEventFrameBuffersAreNotShared(t *testing.T) {
	first, _ := encodeEventFrame(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a", strings.Repeat("x", 100)}})
	before := string(first)
	for range 10 {
		encodeEventFrame(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"b", strings.Repeat("y", 100)}})
	}
	if string(first) != before {
		t.Fatalf("an earlier frame changed: %q", first)
	}
}
