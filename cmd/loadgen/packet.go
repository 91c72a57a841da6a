package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Engine.IO v4 packet types, the first byte of every WebSocket frame.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// Socket.IO v5 packet types, the first byte of an Engine.IO message.
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// sioPacket is one Socket.IO packet carried in an Engine.IO message.
type sioPacket struct {
	Type      byte
	Namespace string // "/" when the packet names none
	AckID     int64  // -1 when the packet carries no ack id
	Data      []byte // the JSON payload; empty when there is none
}

var errEmpty = errors.New("empty packet")

// parseSIO decodes the Socket.IO packet that follows an Engine.IO '4'.
// The format is <type>[<attachments>-][<namespace>,][<ack id>][<json>].
func parseSIO(b []byte) (sioPacket, error) {
	if len(b) == 0 {
		return sioPacket{}, errEmpty
	}
	p := sioPacket{Type: b[0], Namespace: "/", AckID: -1}
	if p.Type < sioConnect || p.Type > sioBinaryAck {
		return sioPacket{}, fmt.Errorf("unknown socket.io packet type %q", p.Type)
	}
	i := 1
	if p.Type == sioBinaryEvent || p.Type == sioBinaryAck {
		j := i
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j == i || j >= len(b) || b[j] != '-' {
			return sioPacket{}, errors.New("binary packet without attachment count")
		}
		i = j + 1
	}
	if i < len(b) && b[i] == '/' {
		j := bytes.IndexByte(b[i:], ',')
		if j < 0 {
			p.Namespace = string(b[i:])
			return p, nil
		}
		p.Namespace = string(b[i : i+j])
		i += j + 1
	}
	j := i
	for j < len(b) && isDigit(b[j]) {
		j++
	}
	if j > i {
		id, err := strconv.ParseInt(string(b[i:j]), 10, 64)
		if err != nil {
			return sioPacket{}, fmt.Errorf("ack id: %w", err)
		}
		p.AckID = id
		i = j
	}
	p.Data = b[i:]
	return p, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// eventName reads the event name of an EVENT payload (`["NAME", args...]`)
// and returns it with the bytes that follow it. It does not decode the
// arguments: the generator only looks inside the two events it counts.
func eventName(data []byte) (name string, rest []byte, err error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return "", nil, errors.New("event payload is not an array")
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return "", nil, errors.New("event name is not a string")
	}
	end := i + 1
	for end < len(data) && data[end] != '"' {
		if data[end] == '\\' {
			// An escaped name: let encoding/json read it.
			var arr []json.RawMessage
			if err := json.Unmarshal(data, &arr); err != nil || len(arr) == 0 {
				return "", nil, errors.New("malformed event payload")
			}
			if err := json.Unmarshal(arr[0], &name); err != nil {
				return "", nil, errors.New("event name is not a string")
			}
			return name, data[bytes.Index(data, arr[0])+len(arr[0]):], nil
		}
		end++
	}
	if end >= len(data) {
		return "", nil, errors.New("unterminated event name")
	}
	return string(data[i+1 : end]), data[end+1:], nil
}

// intField finds `"key": <integer>` in a flat JSON object and returns the
// integer; a decimal string ("12") is read too. It is a scan, not a decode:
// the payloads it reads are the server's flat alert objects.
func intField(obj []byte, key string) (int64, bool) {
	pat := make([]byte, 0, len(key)+2)
	pat = append(append(append(pat, '"'), key...), '"')
	for off := 0; ; {
		k := bytes.Index(obj[off:], pat)
		if k < 0 {
			return 0, false
		}
		i := skipSpace(obj, off+k+len(pat))
		off += k + len(pat)
		if i >= len(obj) || obj[i] != ':' {
			continue // the key text appeared as a value
		}
		i = skipSpace(obj, i+1)
		quoted := i < len(obj) && obj[i] == '"'
		if quoted {
			i++
		}
		j := i
		if j < len(obj) && obj[j] == '-' {
			j++
		}
		for j < len(obj) && isDigit(obj[j]) {
			j++
		}
		if quoted && (j >= len(obj) || obj[j] != '"') {
			return 0, false
		}
		n, err := strconv.ParseInt(string(obj[i:j]), 10, 64)
		return n, err == nil
	}
}

// appendEmit appends the Engine.IO + Socket.IO frame of
// emit(event, {idKey: id, "order_id": orderID}).
func appendEmit(buf []byte, event, idKey string, id, orderID int64) []byte {
	buf = append(buf, `42["`...)
	buf = append(buf, event...)
	buf = append(buf, `",{"`...)
	buf = append(buf, idKey...)
	buf = append(buf, `":`...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, `,"order_id":`...)
	buf = strconv.AppendInt(buf, orderID, 10)
	return append(buf, "}]"...)
}

// connectFrame is the namespace CONNECT with the handshake auth.
func connectFrame(token string) []byte {
	auth, _ := json.Marshal(map[string]string{"token": token})
	return append([]byte("40"), auth...)
}
