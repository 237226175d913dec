package httpapi

import (
	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// ruleResource serves /api/v1/rules: which events (type, optionally source and
// condition) run which flow. Validation normalises the event type and checks the
// condition, the flow and the source; every change reaches the engine's rule index
// at once on this process (and within its cache TTL on others).
func (s *Server) ruleResource() Resource[domain.Rule, *domain.Rule] {
	wf := s.deps.Workflow
	return Resource[domain.Rule, *domain.Rule]{
		Kind: domain.EntityRule, Base: "/api/v1/rules", Read: permRules, Write: permRules,
		Validate: wf.ValidateRule, Changed: func(string) { wf.InvalidateRules() },
	}
}
