package domain

import "time"

// WorkItem is background work (a destination delivery, a resumed workflow step) that a
// store commit queues together with the documents that caused it: the transactional
// outbox. When the commit succeeds the item is as durable as the documents; a worker
// receives it from the backend's queue under Topic, at least once.
type WorkItem struct {
	// ID identifies the item; a second item with an ID still queued is not queued
	// again. Deliveries use their idempotency key (event id + destination id).
	ID      string
	Topic   string
	Payload []byte
	// Delay postpones the first delivery.
	Delay time.Duration
	// Replanned marks an item derived again from a document stored already: the work
	// of an event whose client retried it (docs/architecture.md, "Background work").
	// The original request may have stored the event and lost the item. A store that
	// commits items in the transaction of their documents (the embedded one) has the
	// original item whenever it has the event, and ignores a replanned one; the
	// production store writes it create-only under its id, and the sweeper's marker
	// keeps it from being queued twice.
	Replanned bool
}
