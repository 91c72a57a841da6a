package auth

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orderbell/orderbell/models"
)

var key = []byte("test-key-0123456789")

// issueClient mints a token for customer id at at.
func issueClient(t testing.TB, tokens *Tokens, id int64, at time.Time) string {
	t.Helper()
	token, _, err := tokens.Issue(models.Principal{Role: models.RoleClient, ID: id}, at)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func sign(t *testing.T, method jwt.SigningMethod, k any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueThenParse(t *testing.T) {
	tokens := NewTokens(key, time.Hour)
	for _, p := range []models.Principal{{Role: models.RoleClient, ID: 7}, {Role: models.RoleOwner, ID: 7}} {
		at := time.Now()
		token, expires, err := tokens.Issue(p, at)
		if err != nil {
			t.Fatal(err)
		}
		if want := at.Add(time.Hour).Truncate(time.Second); !expires.Equal(want) {
			t.Errorf("expires = %v, want %v", expires, want)
		}
		got, gotExp, err := tokens.Parse(token)
		if err != nil || got != p || !gotExp.Equal(expires) {
			t.Errorf("Parse(Issue(%v)) = %v, %v, %v", p, got, gotExp, err)
		}
	}
}

// A token as Node's jsonwebtoken makes it: sign({owner_id: 3}, key,
// {expiresIn: '12h'}) gives exactly this header and claim set.
func TestParseAcceptsNodeToken(t *testing.T) {
	now := time.Now().Unix()
	token := sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"owner_id": 3, "iat": now, "exp": now + 12*3600})
	p, _, err := NewTokens(key, 0).Parse(token)
	if err != nil || p != (models.Principal{Role: models.RoleOwner, ID: 3}) {
		t.Fatalf("Parse = %v, %v", p, err)
	}
}

func TestParseRefuses(t *testing.T) {
	now := time.Now().Unix()
	valid := jwt.MapClaims{"client_id": 1, "iat": now, "exp": now + 60}
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not.a.token"},
		{"wrong key", sign(t, jwt.SigningMethodHS256, []byte("other-key"), valid)},
		{"alg none", b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(`{"client_id":1,"exp":9999999999}`)) + "."},
		{"HS512", sign(t, jwt.SigningMethodHS512, key, valid)},
		{"HS384", sign(t, jwt.SigningMethodHS384, key, valid)},
		{"expired", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"client_id": 1, "iat": now - 7200, "exp": now - 3600})},
		{"no exp", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"client_id": 1, "iat": now})},
		{"both ids", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"client_id": 1, "owner_id": 1, "exp": now + 60})},
		{"neither id", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"user_id": 1, "exp": now + 60})},
		{"id zero", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"client_id": 0, "exp": now + 60})},
		{"id negative", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"owner_id": -4, "exp": now + 60})},
		{"id fraction", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"owner_id": 1.5, "exp": now + 60})},
		{"id text", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"owner_id": "one", "exp": now + 60})},
		{"issued in the future", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"client_id": 1, "iat": now + 3600, "exp": now + 7200})},
	}
	tokens := NewTokens(key, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := tokens.Parse(tt.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Parse = %v, %v; want ErrInvalidToken", p, err)
			}
		})
	}
}

// A token once verified is remembered, but only that exact string, and
// never past its expiry.
func TestVerifiedTokensAreRememberedUntilTheyExpire(t *testing.T) {
	clock := time.Now()
	tokens := newTokens(key, time.Minute, func() time.Time { return clock })
	p := models.Principal{Role: models.RoleOwner, ID: 9}
	token, exp, err := tokens.Issue(p, clock)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second time from the cache
		got, gotExp, err := tokens.Parse(token)
		if err != nil || got != p || !gotExp.Equal(exp) {
			t.Fatalf("parse %d: %v %v %v", i, got, gotExp, err)
		}
	}
	if len(tokens.verified) != 1 {
		t.Fatalf("%d tokens remembered, want 1", len(tokens.verified))
	}
	// Another signature on the same claims is checked, not looked up.
	b := []byte(token)
	b[len(b)-10] ^= 1 // 'A'↔'B', 'a'↔'b', …: another signature, still base64url
	forged := string(b)
	if _, _, err := tokens.Parse(forged); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("forged signature: %v", err)
	}
	clock = exp
	if _, _, err := tokens.Parse(token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("at its expiry the remembered token was accepted: %v", err)
	}
	// The bound: a full cache starts over rather than grow.
	for i := range maxVerified + 1 {
		if _, _, err := tokens.Parse(issueClient(t, tokens, int64(i+1), clock)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(tokens.verified); n > maxVerified {
		t.Errorf("%d tokens remembered, more than %d", n, maxVerified)
	}
}

// A remembered token is looked up with no allocation: its bytes are hashed
// from a buffer on the stack.
func TestRememberedTokenParsesWithoutAllocating(t *testing.T) {
	tokens := NewTokens(key, time.Hour)
	token := issueClient(t, tokens, 12345, time.Now())
	if len(token) <= 32 || len(token) > tokenBufSize {
		t.Fatalf("token of %d bytes: the test needs one from 33 to %d", len(token), tokenBufSize)
	}
	if _, _, err := tokens.Parse(token); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := tokens.Parse(token); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Parse of a remembered token: %v allocations, want 0", n)
	}
}

// A token longer than the stack buffer is hashed from a copy, whole:
// remembered, told apart from another as long, and a forgery that differs
// from a remembered one only past the buffer's length (in its signature)
// is checked, not looked up.
func TestLongTokensAreRememberedApart(t *testing.T) {
	tokens := NewTokens(key, time.Hour)
	now := time.Now().Unix()
	pad := string(make([]byte, tokenBufSize)) // a claim that makes the token long
	var long [2]string
	for i := range long {
		long[i] = sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"client_id": i + 1, "iat": now, "exp": now + 60, "pad": pad})
		if len(long[i]) <= tokenBufSize {
			t.Fatalf("token of %d bytes, want more than %d", len(long[i]), tokenBufSize)
		}
	}
	for round := range 2 { // the second from the cache
		for i, tok := range long {
			p, _, err := tokens.Parse(tok)
			if want := (models.Principal{Role: models.RoleClient, ID: int64(i + 1)}); err != nil || p != want {
				t.Errorf("round %d, token %d: %v, %v; want %v", round, i, p, err, want)
			}
		}
	}
	if n := len(tokens.verified); n != 2 {
		t.Errorf("%d tokens remembered, want 2", n)
	}
	b := []byte(long[0])
	b[len(b)-10] ^= 1 // another signature, still base64url
	if _, _, err := tokens.Parse(string(b)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a remembered long token with another signature: %v, want ErrInvalidToken", err)
	}
}

// Parse reads the payload into claims, whose dates stay json.Numbers until
// the validator asks; jwt.RegisteredClaims, which Issue signs with, decodes
// them as NumericDates. The library's own type is the oracle: every
// payload here must be accepted or refused alike, and an accepted one
// expire at the same instant.
func TestClaimsDecodeAsRegisteredClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tokens := newTokens(key, time.Hour, func() time.Time { return now })
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	payloads := []string{
		`{"client_id":1,"iat":1800000000,"exp":1800000060}`,
		`{"client_id":1,"iat":1799999999.75,"exp":1800000060.5}`,
		`{"client_id":1,"exp":1800000000.4}`, // within the second: truncated to now
		`{"client_id":1,"exp":1800000001}`,
		`{"client_id":1,"exp":"1800000060"}`,
		`{"client_id":1,"exp":"1.80000006e9"}`,
		`{"client_id":1,"exp":"soon"}`,
		`{"client_id":1,"exp":null}`,
		`{"client_id":1,"exp":true}`,
		`{"client_id":1,"exp":{}}`,
		`{"client_id":1,"exp":[1800000060]}`,
		`{"client_id":1,"exp":1e400}`,
		`{"client_id":1,"exp":-1}`,
		`{"client_id":1,"exp":9.3e18}`,
		`{"client_id":1,"exp":1,"exp":1800000060}`,
		`{"client_id":1,"exp":1800000060,"nbf":1800000030}`,
		`{"client_id":1,"exp":1800000060,"nbf":1799999000.5}`,
		`{"client_id":1,"exp":1800000060,"nbf":"later"}`,
		`{"client_id":1,"exp":1800000060,"iat":1800000030}`,
		`{"client_id":1,"exp":1800000060,"iat":false}`,
		`{"client_id":1,"exp":1800000060,"aud":"shop"}`,
		`{"client_id":1,"exp":1800000060,"aud":["shop","app"]}`,
		`{"client_id":1,"exp":1800000060,"aud":5}`,
		`{"client_id":1,"exp":1800000060,"iss":5}`,
		`{"client_id":1,"exp":1800000060,"sub":"x","jti":"y","iss":"z"}`,
		`{"client_id":1,"exp":1800000060,"jti":[]}`,
		`{"client_id":1,"exp":1800000060,"extra":{"exp":1}}`,
		`{"client_id":1,"exp":1800000060`,
	}
	b64 := base64.RawURLEncoding.EncodeToString
	header := b64([]byte(`{"alg":"HS256","typ":"JWT"}`))
	for _, payload := range payloads {
		unsigned := header + "." + b64([]byte(payload))
		sig, err := jwt.SigningMethodHS256.Sign(unsigned, key)
		if err != nil {
			t.Fatal(err)
		}
		token := unsigned + "." + b64(sig)

		var want issued
		_, wantErr := tokens.parser.ParseWithClaims(token, &want, keyFunc)
		var got claims
		_, gotErr := tokens.parser.ParseWithClaims(token, &got, keyFunc)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s: accepted %v (%v), jwt.RegisteredClaims %v (%v)", payload, gotErr == nil, gotErr, wantErr == nil, wantErr)
			continue
		}
		if wantErr != nil {
			continue
		}
		exp, err := got.GetExpirationTime()
		if err != nil || !exp.Equal(want.ExpiresAt.Time) {
			t.Errorf("%s: expires %v (%v), want %v", payload, exp, err, want.ExpiresAt)
		}
		_, _, parseErr := tokens.Parse(token)
		if parseErr != nil {
			t.Errorf("%s: Parse: %v", payload, parseErr)
		}
	}
}

// BenchmarkParseNewToken is what a token not yet remembered costs: every
// new connection of a device brings one (go test ./auth -bench ParseNewToken -benchmem).
func BenchmarkParseNewToken(b *testing.B) {
	tokens := NewTokens(key, time.Hour)
	token := issueClient(b, tokens, 1234, time.Now())
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tokens.parse(token); err != nil {
			b.Fatal(err)
		}
	}
}
