package local

import (
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

func TestLockerConformance(t *testing.T) {
	l := NewLocker()
	storagetest.RunLocker(t, l)
	if len(l.locks) != 0 {
		t.Fatalf("%d lock entries left behind", len(l.locks))
	}
}

func TestQueueConformance(t *testing.T) {
	storagetest.RunQueue(t, func(t *testing.T, o storagetest.QueueOptions) storage.Queue {
		return NewQueue(o.Lease, o.MaxDeliveries)
	})
}
