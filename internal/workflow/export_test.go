package workflow

import (
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// TestExec is an Exec outside of a run, for tests of document access.
type TestExec struct{ *Exec }

// NewTestExec returns an Exec over the given objects.
func NewTestExec(p *domain.Profile, s *domain.Session, ev *domain.Event) TestExec {
	return TestExec{&Exec{docs: NewDocs(p, s, ev), memory: map[string]any{}, flow: map[string]any{}, now: time.Now(), effects: NewRecorder()}}
}

// WriteBack applies the changes to the typed objects.
func (x TestExec) WriteBack() error { return x.docs.WriteBack() }
