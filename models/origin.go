package models

import "context"

type originKey struct{}

// WithOrigin marks the changes made with ctx as coming from the Socket.IO
// socket sid: the device of the acting party that made the request (the
// X-Socket-Id a page sends, as Laravel Echo's X-Socket-ID). The OnCommit
// hook gets it, so ORDER_UPDATED to the acting party can skip the device
// that already knows. It changes nothing stored, and no alert.
func WithOrigin(ctx context.Context, sid string) context.Context {
	return context.WithValue(ctx, originKey{}, sid)
}

// originOf is the socket WithOrigin marked ctx with, or "".
func originOf(ctx context.Context) string {
	sid, _ := ctx.Value(originKey{}).(string)
	return sid
}
