package socket

// orderbell patch (the eighth): a broadcast's event encoded once, straight
// into its WebSocket frame. See ORDERBELL-PATCHES.md.

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// frameEncoder is a JSON encoder over a buffer of its own, kept between
// broadcasts.
type frameEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var frameEncoders = sync.Pool{New: func() any {
	e := new(frameEncoder)
	e.enc = json.NewEncoder(&e.buf) // escapes HTML, as json.Marshal does
	return e
}}

// maxKeptFrameBuffer: a buffer grown past it by a large payload is not kept.
const maxKeptFrameBuffer = 64 << 10

// encodeEventFrame encodes an EVENT packet as the Engine.IO message of its
// WebSocket frame: "4", then exactly the text the parser's encoder makes
// ("2", the namespace and a comma unless it is "/", the ack id, the JSON
// of the arguments). It does so only for arguments the parser would encode
// as they are (encoder.go: no binary, nothing preprocessData rewrites) and
// whose JSON succeeds within types.MaxPayloadSize; otherwise it reports
// false and the caller takes the parser's own path. Upstream made the same
// text in three copies: json.Marshal's, the encoder's buffer grown from
// one byte, and the frame.
func encodeEventFrame(packet *parser.Packet) ([]byte, bool) {
	if packet.Type != parser.EVENT || packet.Attachments != nil {
		return nil, false
	}
	args, ok := packet.Data.([]any)
	if !ok {
		return nil, false
	}
	for _, arg := range args {
		switch arg.(type) {
		case []any, map[string]any, *strings.Reader, []byte, io.Reader:
			// rewritten by preprocessData, or binary (or a text reader)
			return nil, false
		}
	}
	e := frameEncoders.Get().(*frameEncoder)
	defer func() {
		if e.buf.Cap() <= maxKeptFrameBuffer {
			e.buf.Reset()
			frameEncoders.Put(e)
		}
	}()
	if err := e.enc.Encode(args); err != nil {
		return nil, false
	}
	data := bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'}) // Encode's own newline
	if len(data) > types.MaxPayloadSize {
		return nil, false
	}
	nsp := packet.Nsp
	if nsp == "/" {
		nsp = ""
	}
	size := 2 + len(data) // "4" and the packet type
	if nsp != "" {
		size += len(nsp) + 1
	}
	if packet.Id != nil {
		size += 20
	}
	frame := make([]byte, 0, size)
	frame = append(frame, '4', byte(parser.EVENT)+'0')
	if nsp != "" {
		frame = append(append(frame, nsp...), ',')
	}
	if packet.Id != nil {
		frame = strconv.AppendUint(frame, *packet.Id, 10)
	}
	return append(frame, data...), true
}
