package collector

import (
	"errors"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

func badRequest(field, msg string) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.Invalid, Field: field, Message: msg}
}

// unavailable is the answer when the store or the locks fail: the client retries, and
// the cause goes to the operator's log.
func unavailable(cause error) *pipeline.Error {
	return pipeline.Unavailablef(cause, "storage cannot accept the request now; retry later")
}

// commitError is the answer when the store refuses a batch. A document that cannot be
// stored because a number in it is not finite (a workflow's arithmetic that overflowed)
// is the request's fault and stays so on every retry: 400, not 503, so that clients do
// not retry without end.
func commitError(err error) *pipeline.Error {
	if errors.Is(err, domain.ErrNotFinite) {
		e := pipeline.Invalidf("events", "processing them produced a number that is not finite (%v); nothing was stored", err)
		e.Err = err
		return e
	}
	return unavailable(err)
}
