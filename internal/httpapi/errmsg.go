package httpapi

import (
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

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
