package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// errorBody is the one JSON shape of every error answer.
type errorBody struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"status":500,"error":"encoding response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, errorBody{Status: status, Error: msg, Field: field})
}

// pipelineStatus is the status of each class of pipeline error.
var pipelineStatus = map[pipeline.ErrorKind]int{
	pipeline.Invalid:         http.StatusBadRequest,
	pipeline.TooLarge:        http.StatusRequestEntityTooLarge,
	pipeline.Unauthenticated: http.StatusUnauthorized,
	pipeline.Forbidden:       http.StatusForbidden,
	pipeline.Rejected:        http.StatusUnprocessableEntity,
	pipeline.Unavailable:     http.StatusServiceUnavailable,
	pipeline.Unsupported:     http.StatusUnsupportedMediaType,
}

// fail maps an error from any layer to its status: the one place where error classes
// become HTTP. Every 5xx answer is logged with its cause; the client sees only the
// class's message.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pipeline.Error
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds()+0.999)))
		writeError(w, http.StatusTooManyRequests, "", err.Error())
	case errors.As(err, &pe):
		status, ok := pipelineStatus[pe.Kind]
		if !ok {
			status = http.StatusInternalServerError
		}
		switch {
		case status == http.StatusServiceUnavailable:
			s.unavail.log(s.log, r.URL.Path, pe.Error(), pe.Err) // rate-limited: every request fails alike
		case status >= 500:
			s.log.Error("request_failed", "path", r.URL.Path, "status", status, "error", pe.Error(), "cause", causeOf(pe))
		}
		if pe.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(pe.RetryAfter.Seconds()+0.999)))
		}
		writeError(w, status, pe.Field, pe.Error())
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "", userMessage(err))
	case errors.Is(err, storage.ErrConflict):
		writeError(w, http.StatusConflict, fieldOf(err), userMessage(err))
	case errors.Is(err, storage.ErrInvalid):
		writeError(w, http.StatusBadRequest, fieldOf(err), userMessage(err))
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrBadToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="thamesthrive"`)
		writeError(w, http.StatusUnauthorized, "", authMessage(err))
	case errors.Is(err, auth.ErrInstallToken):
		writeError(w, http.StatusForbidden, "token", err.Error())
	case errors.Is(err, auth.ErrInstalled):
		writeError(w, http.StatusConflict, "", "ThamesThrive is already installed")
	case errors.Is(err, storage.ErrUnavailable):
		s.unavail.log(s.log, r.URL.Path, "storage unavailable", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "", "storage unavailable; retry later")
	default:
		s.log.Error("request_failed", "path", r.URL.Path, "error", err)
		writeError(w, http.StatusInternalServerError, "", "internal error")
	}
}

// causeOf is what the log says caused a pipeline error: its wrapped cause, or "none
// recorded" so that the log line always has the attribute.
func causeOf(pe *pipeline.Error) string {
	if pe.Err == nil {
		return "none recorded"
	}
	return pe.Err.Error()
}

// fieldOf takes the field name from a validation error of the form "field: message…".
func fieldOf(err error) string {
	msg := err.Error()
	for i := 0; i < len(msg); i++ {
		switch msg[i] {
		case ':':
			return msg[:i]
		case ' ':
			return ""
		}
	}
	return ""
}
