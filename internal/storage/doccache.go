package storage

import "context"

// DocCache keeps the latest version of recently written profiles and sessions where
// every replica can read them (internal/storage/redis). It exists because the search cluster's real-time GET
// of a document changed since the last refresh forces a refresh of its shard: with
// every /track request reading back the profile and session the previous one wrote,
// that is a Lucene refresh per request, which costs the cluster far more than the
// writes. The store writes every profile and session it commits to the cache after the
// cluster acknowledged it and before Commit returns (so before the pipeline releases
// the profile's lock), and reads the cache before the cluster.
//
// Entries carry the document's sequence number and primary term: Set must keep
// whichever version is newer, so a late Set of an older version never hides a newer
// one, and the version read from the cache is the fence of the next write (a stale
// entry makes that write fail with a conflict, upon which the entry is deleted).
type DocCache interface {
	// Get returns the cached entry of key, ok false when there is none.
	Get(ctx context.Context, key string) (doc CachedDoc, ok bool, err error)
	// Set stores each entry unless a newer version of it is cached.
	Set(ctx context.Context, docs []CachedDoc) error
	// Delete drops entries.
	Delete(ctx context.Context, keys ...string) error
}

// CachedDoc is one version of a document.
type CachedDoc struct {
	Key    string // kind and id
	SeqNo  int64
	Term   int64
	Source []byte
}
