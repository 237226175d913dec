package collector

import "github.com/thamesthrive/thamesthrive/internal/pipeline"

func badRequest(field, msg string) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.Invalid, Field: field, Message: msg}
}

// unavailable is the answer when the store or the locks fail: the client retries, and
// the cause goes to the operator's log.
func unavailable(cause error) *pipeline.Error {
	return pipeline.Unavailablef(cause, "storage cannot accept the request now; retry later")
}
