//go:build pebble

package main

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

func init() { engines["pebble"] = openPebble }

// pebbleEngine stores documents under p/<id>, s/<id> and e/<id>, plus an (empty) entry
// ep/<profile>/<event> standing for the events-by-profile index. Block cache 8 MB,
// bloom filters on every level; every batch is synced.
type pebbleEngine struct{ db *pebble.DB }

func openPebble(dir, _ string) (engine, error) {
	opts := &pebble.Options{Cache: pebble.NewCache(8 << 20), MemTableSize: 16 << 20}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	opts.Logger = quiet{}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	return &pebbleEngine{db: db}, nil
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic(format)
}

func (e *pebbleEngine) load(pids, sids []string, newID func() string) error {
	b := e.db.NewBatch()
	for i := range pids {
		e.add(b, visit{pid: pids[i], sid: sids[i], eventID: newID(), profile: sprintfProfile(pids[i], 1), session: sprintfSession(sids[i], pids[i], 1)})
		if b.Len() > 4<<20 {
			if err := b.Commit(pebble.Sync); err != nil {
				return err
			}
			b = e.db.NewBatch()
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	return e.db.Flush()
}

func (e *pebbleEngine) add(b *pebble.Batch, v visit) {
	b.Set([]byte("p/"+v.pid), []byte(v.profile), nil)
	b.Set([]byte("s/"+v.sid), []byte(v.session), nil)
	b.Set([]byte("e/"+v.eventID), []byte(eventDoc), nil)
	b.Set([]byte("ep/"+v.pid+"/"+v.eventID), nil, nil)
}

func (e *pebbleEngine) get(key string) error {
	v, c, err := e.db.Get([]byte(key))
	if err != nil {
		return err
	}
	_ = append([]byte(nil), v...) // the caller keeps the document
	return c.Close()
}

func (e *pebbleEngine) read(sid, pid string) error {
	if err := e.get("s/" + sid); err != nil {
		return err
	}
	return e.get("p/" + pid)
}

func (e *pebbleEngine) write(vs []visit) error {
	b := e.db.NewBatch()
	for _, v := range vs {
		e.add(b, v)
	}
	return b.Commit(pebble.Sync)
}

func (e *pebbleEngine) close() error { return e.db.Close() }
