package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/collector"
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

// fail maps an error from any layer to its status: the one place where error classes
// become HTTP.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ce *collector.Error
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds()+0.999)))
		writeError(w, http.StatusTooManyRequests, "", err.Error())
	case errors.As(err, &ce):
		if ce.Status >= 500 { // every 503 says why in the log
			s.unavail.log(s.log, r.URL.Path, ce.Error(), ce.Cause)
		}
		if ce.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(ce.RetryAfter.Seconds()+0.999)))
		}
		writeError(w, ce.Status, ce.Field, ce.Error())
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "", err.Error())
	case errors.Is(err, storage.ErrConflict):
		writeError(w, http.StatusConflict, "", err.Error())
	case errors.Is(err, storage.ErrInvalid):
		writeError(w, http.StatusBadRequest, fieldOf(err), err.Error())
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrBadToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="thamesthrive"`)
		writeError(w, http.StatusUnauthorized, "", err.Error())
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
