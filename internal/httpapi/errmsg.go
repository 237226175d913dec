package httpapi

import (
	"errors"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// authMessage says what to do about a refused sign-in or token.
func authMessage(err error) string {
	if errors.Is(err, auth.ErrBadToken) {
		return err.Error() + ": sign in again (POST /api/v1/auth/token) and send the token as Authorization: Bearer <token>"
	}
	return err.Error()
}

// userMessage turns an error of a storage class into the sentence a person reads: the
// class's machine suffix (": invalid", ": conflict", ": not found") goes, and what to
// do next is said where the class implies it.
func userMessage(err error) string {
	msg := err.Error()
	switch {
	case strings.HasSuffix(msg, ": "+storage.ErrNotFound.Error()):
		return strings.TrimSuffix(msg, ": "+storage.ErrNotFound.Error()) + " does not exist"
	case strings.HasSuffix(msg, ": "+storage.ErrConflict.Error()):
		msg = strings.TrimSuffix(msg, ": "+storage.ErrConflict.Error())
		switch {
		case strings.Contains(msg, " is at version "):
			return msg + ": someone changed it meanwhile; reload it and apply your change again"
		case strings.HasSuffix(msg, " already exists"):
			return msg + "; choose another id"
		}
		return msg
	case strings.HasSuffix(msg, ": "+storage.ErrInvalid.Error()):
		return strings.TrimSuffix(msg, ": "+storage.ErrInvalid.Error())
	}
	return msg
}
