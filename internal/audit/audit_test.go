package audit

import (
	"context"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

func TestListNewestFirstPagedAndFiltered(t *testing.T) {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		action := ActionUpdate
		if i%2 == 0 {
			action = ActionCreate
		}
		e := &Entry{Time: domain.NewTime(base.Add(time.Duration(i) * time.Second)), Actor: "a@example.com", Action: action,
			Kind: "source", ObjectID: "web", Version: int64(i + 1)}
		if err := Log(ctx, store.Entities(), e); err != nil {
			t.Fatal(err)
		}
	}
	page, total, err := List(ctx, store.Entities(), Filter{}, storage.Page{Limit: 2, Offset: 1})
	if err != nil || total != 5 || len(page) != 2 || page[0].Version != 4 || page[1].Version != 3 {
		t.Fatalf("page: total %d %+v %v", total, page, err)
	}
	page, total, err = List(ctx, store.Entities(), Filter{Action: ActionCreate}, storage.Page{Limit: 2, Offset: 1})
	if err != nil || total != 3 || len(page) != 2 || page[0].Version != 3 || page[1].Version != 1 {
		t.Fatalf("filtered page: total %d %+v %v", total, page, err)
	}
	if _, total, _ := List(ctx, store.Entities(), Filter{Kind: "flow"}, storage.Page{Limit: 10}); total != 0 {
		t.Fatalf("kind filter: %d", total)
	}
}

func TestIDsSortNewestFirst(t *testing.T) {
	a, b := newID(time.Unix(100, 0)), newID(time.Unix(100, 1))
	if !(b < a) {
		t.Fatalf("newer id %q does not sort before older %q", b, a)
	}
}
