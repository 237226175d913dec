package query

import (
	"errors"
	"fmt"
)

// Error is a positioned error in a condition. It prints as
// "line 1, col 23: expected value after '>'".
type Error struct {
	Line, Col int
	Msg       string
	// Err is an optional cause (for example ErrUnsupported); it is not
	// printed but is reachable with errors.Is and errors.As.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// Unwrap returns the cause of the error, if any.
func (e *Error) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped by back ends that cannot express a valid
// condition (for example the search DSL and a comparison between two
// fields).
var ErrUnsupported = errors.New("not supported by this back end")

// Errorf returns a positioned *Error for node n.
func Errorf(n Node, format string, args ...any) *Error {
	p := n.Position()
	return &Error{Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}

// Unsupported returns a positioned *Error for node n that wraps
// ErrUnsupported.
func Unsupported(n Node, format string, args ...any) *Error {
	e := Errorf(n, format, args...)
	e.Err = ErrUnsupported
	return e
}
