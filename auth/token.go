// Package auth mints and checks the accessToken JWT that both the HTTP API
// and the Socket.IO handshake accept. The format is the original Node
// backend's (jsonwebtoken, HS256, {"client_id": N} or {"owner_id": N}), so
// its tokens keep working.
package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orderbell/orderbell/models"
)

// CookieName is the cookie the browser carries the token in.
const CookieName = "accessToken"

// DefaultTTL is how long a login lasts.
const DefaultTTL = 12 * time.Hour

// ErrInvalidToken is returned for every token that is not accepted.
var ErrInvalidToken = errors.New("invalid token")

// Tokens mints and verifies tokens with one HS256 key.
type Tokens struct {
	key    []byte
	ttl    time.Duration
	parser *jwt.Parser
}

// NewTokens returns a Tokens for key; ttl 0 means DefaultTTL.
func NewTokens(key []byte, ttl time.Duration) *Tokens {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Tokens{
		key: key,
		ttl: ttl,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
		),
	}
}

// TTL is how long a minted token lasts.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// claims is the payload. The ids are pointers so "absent" and "0" differ.
type claims struct {
	ClientID *json.Number `json:"client_id,omitempty"`
	OwnerID  *json.Number `json:"owner_id,omitempty"`
	jwt.RegisteredClaims
}

// Issue mints a token for p that expires after the TTL.
func (t *Tokens) Issue(p models.Principal, at time.Time) (token string, expires time.Time, err error) {
	id := json.Number(fmt.Sprint(p.ID))
	c := claims{RegisteredClaims: jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(at),
		ExpiresAt: jwt.NewNumericDate(at.Add(t.ttl)),
	}}
	switch p.Role {
	case models.RoleClient:
		c.ClientID = &id
	case models.RoleOwner:
		c.OwnerID = &id
	default:
		return "", time.Time{}, fmt.Errorf("issue token: unknown role %q", p.Role)
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	return token, c.ExpiresAt.Time, err
}

// Parse verifies a token and returns whose it is and when it expires. Any
// algorithm but HS256, a bad signature, a missing or past exp, or a payload
// with neither or both ids is refused with ErrInvalidToken.
func (t *Tokens) Parse(token string) (models.Principal, time.Time, error) {
	var c claims
	_, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil })
	if err != nil {
		return models.Principal{}, time.Time{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var p models.Principal
	var raw *json.Number
	switch {
	case c.ClientID != nil && c.OwnerID == nil:
		p.Role, raw = models.RoleClient, c.ClientID
	case c.OwnerID != nil && c.ClientID == nil:
		p.Role, raw = models.RoleOwner, c.OwnerID
	default:
		return models.Principal{}, time.Time{}, fmt.Errorf("%w: payload needs exactly one of client_id and owner_id", ErrInvalidToken)
	}
	id, err := raw.Int64()
	if err != nil || id <= 0 {
		return models.Principal{}, time.Time{}, fmt.Errorf("%w: id is not a positive integer", ErrInvalidToken)
	}
	p.ID = id
	return p, c.ExpiresAt.Time, nil
}
