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
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s %s", e.Field, e.Message)
}

func badRequest(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Message: msg}
}
