package pipeline

import (
	"fmt"
	"time"
)

// ErrorKind is the class of a failure the pipeline answers with. Kinds say what went
// wrong, not how to answer it: internal/httpapi/errors.go maps each to a status.
type ErrorKind int

// Error kinds.
const (
	// Invalid: the request is malformed (a field missing, of the wrong type, too long).
	Invalid ErrorKind = iota + 1
	// TooLarge: the request is larger than a configured limit.
	TooLarge
	// Unauthenticated: the request names no enabled source that may be used here.
	Unauthenticated
	// Forbidden: the source exists but refuses the request's origin.
	Forbidden
	// Rejected: the request is well-formed but breaks a configured rule (an event
	// type's schema).
	Rejected
	// Unavailable: a dependency (the store, a lock) cannot serve the request now; the
	// client should retry after RetryAfter. Nothing of the request was stored.
	Unavailable
	// Unsupported: the request's media type or content encoding is not one accepted.
	Unsupported
)

var kindNames = [...]string{Invalid: "invalid", TooLarge: "too_large", Unauthenticated: "unauthenticated",
	Forbidden: "forbidden", Rejected: "rejected", Unavailable: "unavailable", Unsupported: "unsupported"}

func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is a failure of a request with its class and the field at fault. Its text
// (Error) is what the client is told; the cause (Err, reached with errors.Unwrap) is
// for the operator's log and is never shown to the client.
type Error struct {
	Kind       ErrorKind
	Field      string
	Message    string
	RetryAfter time.Duration // for Unavailable
	Err        error         // the cause, if any
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s %s", e.Field, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Invalidf returns an Invalid error for field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Unavailablef returns an Unavailable error caused by cause (which may be nil) that
// asks the client to retry after a second.
func Unavailablef(cause error, format string, args ...any) *Error {
	return &Error{Kind: Unavailable, Message: fmt.Sprintf(format, args...), RetryAfter: time.Second, Err: cause}
}
