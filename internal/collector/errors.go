package collector

import (
	"fmt"
	"net/http"
	"time"
)

// Error is a failure caused by the request, with the status the collector answers and
// the field at fault.
type Error struct {
	Status     int
	Field      string
	Message    string
	RetryAfter time.Duration // for 429 and 503
	// Cause is what made a 503 necessary (a storage error), for the log; clients are
	// not told it.
	Cause error
}

// Unwrap returns the cause, so that errors.Is sees the storage error class.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s %s", e.Field, e.Message)
}

func badRequest(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Message: msg}
}
