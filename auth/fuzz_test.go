package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/orderbell/orderbell/models"
)

// FuzzParse feeds arbitrary tokens. Parse never panics, and anything it
// accepts is an HS256 token of this key naming exactly one positive id.
func FuzzParse(f *testing.F) {
	tokens := NewTokens(key, time.Hour)
	good, _, _ := tokens.Issue(models.Principal{Role: models.RoleOwner, ID: 3}, time.Now())
	f.Add(good)
	f.Add(good + "x")
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.eyJvd25lcl9pZCI6MX0.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		p, exp, err := tokens.Parse(token)
		if err != nil {
			return
		}
		if p.ID <= 0 || (p.Role != models.RoleClient && p.Role != models.RoleOwner) || !exp.After(time.Now().Add(-time.Second)) {
			t.Fatalf("accepted %q as %v expiring %v", token, p, exp)
		}
		header, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
		var h struct {
			Alg string `json:"alg"`
		}
		if err != nil || json.Unmarshal(header, &h) != nil || h.Alg != "HS256" {
			t.Fatalf("accepted %q whose header is %q", token, header)
		}
	})
}
