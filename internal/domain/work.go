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
}
