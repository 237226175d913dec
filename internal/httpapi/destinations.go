package httpapi

import (
	"context"
	"errors"
	"net/url"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// domain.EntityDestination is the entity kind destinations are stored under.

// Destinations are stored and validated here; delivering to them is the job of the
// destination worker, which reads them from the store.
func (s *Server) destinationResource() Resource[domain.Destination, *domain.Destination] {
	return Resource[domain.Destination, *domain.Destination]{
		Kind: domain.EntityDestination, Base: "/api/v1/destinations", Read: permDestinations, Write: permDestinations,
		Validate: s.validateDestination,
		Changed: func(string) {
			if s.deps.DestinationsChanged != nil {
				s.deps.DestinationsChanged()
			}
		},
	}
}

// defaultOutbound refuses what a guard without OUTBOUND_ALLOW_PRIVATE refuses.
var defaultOutbound = netguard.New(netguard.Config{})

func (s *Server) validateDestination(_ context.Context, d *domain.Destination) error {
	if err := d.Validate(); err != nil {
		return fieldError(err)
	}
	if d.Filter != "" {
		if err := checkFilter(d); err != nil {
			return err
		}
	}
	if d.Template != "" {
		if _, err := workflow.ParseTemplate(d.Template); err != nil {
			return invalid("template", err.Error())
		}
	}
	guard := s.deps.Outbound
	if guard == nil {
		guard = defaultOutbound
	}
	return checkOutboundURL("webhook.url", d.Webhook.URL, guard)
}

// fieldError turns a domain validation error into a 400 naming its field.
func fieldError(err error) error {
	var fe *domain.FieldError
	if errors.As(err, &fe) {
		return invalid(fe.Field, fe.Message)
	}
	return invalid("body", err.Error())
}

// checkFilter parses a destination's filter with the scopes it may use; the error
// keeps the parser's position.
func checkFilter(d *domain.Destination) error {
	def, allowed := d.FilterScope()
	_, err := query.ParseOptions{DefaultScope: def, Scopes: allowed}.Parse(d.Filter)
	if err != nil {
		return invalid("filter", err.Error())
	}
	return nil
}

// checkOutboundURL refuses a URL whose host guard refuses (netguard.CheckHost: localhost
// names and literal addresses in any spelling). Names are resolved, and checked again,
// when calls are made.
func checkOutboundURL(field, raw string, guard *netguard.Guard) error {
	u, err := url.Parse(raw)
	if err != nil {
		return invalid(field, "is not a URL")
	}
	if err := guard.CheckHost(u.Hostname()); err != nil {
		return invalid(field, err.Error())
	}
	return nil
}
