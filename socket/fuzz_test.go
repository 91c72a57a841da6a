package socket

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/orderbell/orderbell/models"
)

// FuzzLegacyPair feeds legacy emits of any shape, as the Socket.IO parser
// hands them over (decoded JSON), and checks the answer is one of: a
// problem, or a pair that holds the sender and a positive id.
func FuzzLegacyPair(f *testing.F) {
	for _, seed := range []string{
		`[{"owner_id":1}]`, `[{"client_id":"7"}]`, `[{"owner_id":-1}]`, `[{"owner_id":1.5}]`,
		`[{"owner_id":1e300}]`, `[]`, `[null]`, `["x"]`, `[{"owner_id":{"a":1}}]`, `[{"client_id":"9223372036854775808"}]`,
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, payload string, fromOwner bool) {
		var args []any
		if json.Unmarshal([]byte(payload), &args) != nil {
			return
		}
		sender := models.Principal{Role: models.RoleClient, ID: 5}
		event := models.EventSubmitOrder
		if fromOwner {
			sender.Role, event = models.RoleOwner, models.EventApprovalOrder
		}
		for _, e := range []string{event, models.EventSubmitOrder, models.EventApprovalOrder} {
			clientID, ownerID, problem := legacyPair(sender, e, args)
			if problem != "" {
				if clientID != 0 || ownerID != 0 {
					t.Fatalf("a problem (%s) with a pair %d/%d", problem, clientID, ownerID)
				}
				continue
			}
			if clientID <= 0 || ownerID <= 0 {
				t.Fatalf("%s %s: pair %d/%d", e, payload, clientID, ownerID)
			}
			if (sender.Role == models.RoleClient && clientID != sender.ID) || (sender.Role == models.RoleOwner && ownerID != sender.ID) {
				t.Fatalf("%s %s: the pair %d/%d does not hold the sender %v", e, payload, clientID, ownerID, sender)
			}
		}
	})
}

var decimal = regexp.MustCompile(`^[0-9]+$`)

// FuzzWholeNumber checks the handshake's and emits' number reading: what
// it accepts is a non-negative integer that reads back the same.
func FuzzWholeNumber(f *testing.F) {
	for _, seed := range []string{`0`, `12`, `"12"`, `-1`, `"-1"`, `1.5`, `1e20`, `"1e3"`, `" 3"`, `true`, `null`, `9007199254740993`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var v any
		if json.Unmarshal([]byte(raw), &v) != nil {
			return
		}
		n, ok := wholeNumber(v)
		if !ok {
			return
		}
		if n < 0 {
			t.Fatalf("%s read as %d", raw, n)
		}
		switch x := v.(type) {
		case float64:
			if float64(n) != x {
				t.Fatalf("%s read as %d", raw, n)
			}
		case string:
			if !decimal.MatchString(x) {
				t.Fatalf("%q read as %d", x, n)
			}
		default:
			t.Fatalf("%T accepted", v)
		}
	})
}
