// Package imports loads profiles and events from CSV or NDJSON uploads
// (POST /api/v1/imports): the upload is streamed into the store in chunks, then a
// job that any worker can run validates it line by line and writes it through the
// store's bulk path (docs/imports.md).
package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// ChunkSize is the size of one stored piece of an upload: what an upload costs in
// memory while it is received and while it is read.
const ChunkSize = 1 << 20

// chunkDoc is one stored piece of an upload (an entity of kind
// domain.EntityImportChunk, id <upload>-<n>). The bytes are base64 in JSON.
type chunkDoc struct {
	Data []byte `json:"data"`
}

func chunkID(upload string, n int) string { return fmt.Sprintf("%s-%06d", upload, n) }

// errTooLarge is what store answers when the upload passes max bytes.
var errTooLarge = errors.New("upload too large")

// store streams r into chunks of upload and says how many chunks and bytes it
// stored. Past max bytes it deletes what it stored and answers errTooLarge.
func store(ctx context.Context, ents storage.Entities, upload string, r io.Reader, max int64) (chunks int, size int64, err error) {
	buf := make([]byte, ChunkSize)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if size > max {
				deleteChunks(ents, upload, chunks)
				return 0, 0, errTooLarge
			}
			doc, err := json.Marshal(chunkDoc{Data: buf[:n]})
			if err != nil {
				return 0, 0, err
			}
			if _, err := ents.Put(ctx, &storage.Entity{Kind: domain.EntityImportChunk, ID: chunkID(upload, chunks), Doc: doc}, -1); err != nil {
				deleteChunks(ents, upload, chunks)
				return 0, 0, fmt.Errorf("storing the upload: %w", err)
			}
			chunks++
		}
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			return chunks, size, nil
		case rerr != nil:
			deleteChunks(ents, upload, chunks)
			return 0, 0, rerr
		}
	}
}

// deleteChunks deletes the first n chunks of upload (with a context of its own: it
// also runs after the request or job that stored them ended).
func deleteChunks(ents storage.Entities, upload string, n int) {
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if err := ents.Delete(ctx, domain.EntityImportChunk, chunkID(upload, i)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return
		}
	}
}

// chunkReader reads an upload back, one chunk in memory at a time.
type chunkReader struct {
	ctx    context.Context
	ents   storage.Entities
	upload string
	chunks int
	next   int
	cur    []byte
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		if c.next >= c.chunks {
			return 0, io.EOF
		}
		ent, err := c.ents.Get(c.ctx, domain.EntityImportChunk, chunkID(c.upload, c.next))
		if err != nil {
			return 0, fmt.Errorf("reading chunk %d of the upload: %w", c.next, err)
		}
		var d chunkDoc
		if err := json.Unmarshal(ent.Doc, &d); err != nil {
			return 0, fmt.Errorf("decoding chunk %d of the upload: %w", c.next, err)
		}
		c.cur = d.Data
		c.next++
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}
