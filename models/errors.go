// Package models holds orderbell's stored data: the gorm types, and the
// queries and transactions on them. It knows nothing of HTTP or sockets.
package models

import (
	"errors"
	"fmt"
)

// The kinds of failure callers branch on. Every error this package returns
// for bad input or missing rights wraps exactly one of them.
var (
	ErrInvalid      = errors.New("invalid input")
	ErrUnauthorized = errors.New("not logged in")
	ErrForbidden    = errors.New("not allowed")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnavailable  = errors.New("database unavailable")
)

// Error is a failure with a message meant for the person who caused it.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func invalid(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &Error{Kind: ErrForbidden, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf(format, args...)}
}
