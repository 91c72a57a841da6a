package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// jwtHeader is base64url(`{"alg":"HS256","typ":"JWT"}`), what jsonwebtoken
// and golang-jwt put first.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// mintToken makes the accessToken orderbell and the original Node server
// accept for an account: HS256 over {"<role>_id": id, "iat", "exp"}.
func mintToken(key []byte, role string, id int64, iat time.Time, ttl time.Duration) string {
	payload := make([]byte, 0, 64)
	payload = append(payload, `{"`...)
	payload = append(payload, role...)
	payload = append(payload, `_id":`...)
	payload = strconv.AppendInt(payload, id, 10)
	payload = append(payload, `,"iat":`...)
	payload = strconv.AppendInt(payload, iat.Unix(), 10)
	payload = append(payload, `,"exp":`...)
	payload = strconv.AppendInt(payload, iat.Add(ttl).Unix(), 10)
	payload = append(payload, '}')
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
