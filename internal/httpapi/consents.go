package httpapi

import (
	"context"
	"errors"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// domain.EntityConsentType is the entity kind consent types are stored under.

func (s *Server) consentTypeResource() Resource[domain.ConsentType, *domain.ConsentType] {
	return Resource[domain.ConsentType, *domain.ConsentType]{
		Kind: domain.EntityConsentType, Base: "/api/v1/consent-types", Read: permConsentTypes, Write: permConsentTypes,
		Validate: validateConsentType,
	}
}

func validateConsentType(_ context.Context, c *domain.ConsentType) error {
	if err := c.Validate(); err != nil {
		var fe *domain.FieldError
		if errors.As(err, &fe) {
			return invalid(fe.Field, fe.Message)
		}
		return invalid("body", err.Error())
	}
	return nil
}
