package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/worker"
)

// deliveryRoutes serve destinations' delivery log, dead letters (listed and replayed)
// and delivery state (paused after a run of failures, resumed here).
func (s *Server) deliveryRoutes() {
	tag := []string{"destinations"}
	idp := []Param{{Name: "id", In: "path", Description: "id of the destination"}}
	base := "/api/v1/destinations/{id}"
	s.handle("GET "+base+"/deliveries", permDestinations, s.listDeliveries, Doc{Summary: "Recent delivery attempts, newest first",
		Description: "The last 1,000 attempts of the destination: item (its idempotency key), attempt number, outcome " +
			"(delivered, failed, dead, skipped), the receiver's status code, latency and error.",
		Tags: tag, Params: idp, Query: pageParams, Response: listOf(storage.DeliveryAttempt{})})
	s.handle("GET "+base+"/dead-letters", permDestinations, s.listDeadLetters, Doc{Summary: "Deliveries given up on, most recent first",
		Tags: tag, Params: idp, Query: pageParams, Response: listOf(worker.DeadLetter{})})
	s.handle("POST "+base+"/dead-letters/replay", permDestinations, s.replayDeadLetters, Doc{Summary: "Queue every dead letter of the destination again",
		Tags: tag, Params: idp, Response: replayAnswer{}})
	s.handle("POST "+base+"/dead-letters/{item}/replay", permDestinations, s.replayDeadLetters, Doc{Summary: "Queue one dead letter again",
		Tags: tag, Params: append(idp, Param{Name: "item", In: "path", Description: "the dead letter's id (its idempotency key)"}), Response: replayAnswer{}})
	s.handle("GET "+base+"/status", permDestinations, s.deliveryStatus, Doc{Summary: "Delivery state: paused or not, queued deliveries, dead letters",
		Tags: tag, Params: idp, Response: worker.Status{}})
	s.handle("POST "+base+"/pause", permDestinations, s.pauseDestination, Doc{Summary: "Stop delivering to the destination (queued deliveries wait)",
		Tags: tag, Params: idp, Response: worker.Status{}})
	s.handle("POST "+base+"/resume", permDestinations, s.resumeDestination, Doc{Summary: "Deliver again to a paused destination",
		Description: "A destination is paused after a run of failed deliveries (DESTINATION_PAUSE_AFTER) or through the API.",
		Tags:        tag, Params: idp, Response: worker.Status{}})
}

type replayAnswer struct {
	Replayed int `json:"replayed"`
}

func (s *Server) deliveryAdmin() (*worker.Admin, error) {
	if s.deps.Deliveries == nil {
		return nil, fmt.Errorf("no delivery queue: %w", storage.ErrUnavailable)
	}
	return s.deps.Deliveries, nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	listPaged(s, w, r, (*worker.Admin).Deliveries)
}

func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	listPaged(s, w, r, (*worker.Admin).DeadLetters)
}

// listPaged answers one page of a destination's delivery log or dead letters.
func listPaged[T any](s *Server, w http.ResponseWriter, r *http.Request,
	list func(*worker.Admin, context.Context, string, storage.Page) ([]T, int64, error)) {
	a, err := s.deliveryAdmin()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, total, err := list(a, r.Context(), r.PathValue("id"), page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, total, items)
}

func (s *Server) replayDeadLetters(w http.ResponseWriter, r *http.Request) {
	a, err := s.deliveryAdmin()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := a.Replay(r.Context(), r.PathValue("id"), r.PathValue("item"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("dead_letters_replayed", "destination_id", r.PathValue("id"), "count", n)
	writeJSON(w, http.StatusOK, replayAnswer{Replayed: n})
}

func (s *Server) deliveryStatus(w http.ResponseWriter, r *http.Request) {
	s.destinationState(w, r, func(a *worker.Admin, id string) (*worker.Status, error) { return a.Status(r.Context(), id) })
}

func (s *Server) pauseDestination(w http.ResponseWriter, r *http.Request) {
	s.destinationState(w, r, func(a *worker.Admin, id string) (*worker.Status, error) { return a.Pause(r.Context(), id, "") })
}

func (s *Server) resumeDestination(w http.ResponseWriter, r *http.Request) {
	s.destinationState(w, r, func(a *worker.Admin, id string) (*worker.Status, error) { return a.Resume(r.Context(), id) })
}

func (s *Server) destinationState(w http.ResponseWriter, r *http.Request, fn func(*worker.Admin, string) (*worker.Status, error)) {
	a, err := s.deliveryAdmin()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := fn(a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
