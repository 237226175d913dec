package imports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// JobKind is the kind of import jobs.
const JobKind = "import"

// What can be imported, and in which formats.
const (
	KindProfiles = "profiles"
	KindEvents   = "events"
	FormatCSV    = "csv"
	FormatNDJSON = "ndjson"
)

// MaxLine bounds one line (one NDJSON document or one CSV record).
const MaxLine = 1 << 20

// batchSize is how many lines are written (and checkpointed) at once.
const batchSize = 1000

// Params are an import job's parameters.
type Params struct {
	Kind   string `json:"kind"`
	Format string `json:"format"`
	Upload string `json:"upload"`
	Chunks int    `json:"chunks"`
	Bytes  int64  `json:"bytes"`
}

// checkpoint is where an interrupted import resumes: every line up to Line was
// written (and counted).
type checkpoint struct {
	Line int64 `json:"line"`
}

// Submitter queues jobs (jobs.Shared).
type Submitter interface {
	Submit(ctx context.Context, kind, key string, params any) (*jobs.Job, error)
}

// Importer receives uploads and runs import jobs.
type Importer struct {
	Store    storage.Store
	Locker   storage.Locker
	Jobs     Submitter
	MaxBytes int64
	// Forget drops a profile from the pipeline's cache after the import changed it
	// (nil: no cache in this process).
	Forget func(id string)
	Log    *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// FormatOf maps a Content-Type to an upload format.
func FormatOf(contentType string) (string, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil {
		switch mt {
		case "text/csv":
			return FormatCSV, nil
		case "application/x-ndjson", "application/ndjson", "application/jsonl":
			return FormatNDJSON, nil
		}
	}
	return "", &pipeline.Error{Kind: pipeline.Unsupported, Field: "Content-Type",
		Message: fmt.Sprintf("%q is not accepted; send text/csv or application/x-ndjson", contentType)}
}

// Start stores the upload body of format (FormatCSV or FormatNDJSON) and queues the
// job that imports it as kind (KindProfiles or KindEvents).
func (im *Importer) Start(ctx context.Context, kind, format string, body io.Reader) (*jobs.Job, error) {
	if kind != KindProfiles && kind != KindEvents {
		return nil, fmt.Errorf("kind: must be profiles or events: %w", storage.ErrInvalid)
	}
	upload := uuid.Must(uuid.NewV7()).String()
	chunks, size, err := store(ctx, im.Store.Entities(), upload, body, im.MaxBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, &pipeline.Error{Kind: pipeline.TooLarge, Field: "body",
			Message: fmt.Sprintf("is larger than the limit of %d bytes (IMPORT_MAX_BYTES); split the file", im.MaxBytes)}
	case err != nil:
		return nil, err
	case size == 0:
		return nil, fmt.Errorf("body: the upload is empty: %w", storage.ErrInvalid)
	}
	j, err := im.Jobs.Submit(ctx, JobKind, "", Params{Kind: kind, Format: format, Upload: upload, Chunks: chunks, Bytes: size})
	if err != nil {
		deleteChunks(im.Store.Entities(), upload, chunks)
		return nil, err
	}
	return j, nil
}

// Finished deletes the upload of a finished import job (jobs.Config.OnFinish).
func (im *Importer) Finished(j jobs.Job) {
	var p Params
	if j.Kind != JobKind || json.Unmarshal(j.Params, &p) != nil || p.Upload == "" {
		return
	}
	deleteChunks(im.Store.Entities(), p.Upload, p.Chunks)
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

// line is one record of the upload: its line number and the document, or why it
// could not be read.
type line struct {
	n   int64
	doc []byte
	err string
}

// Run implements jobs.Handler. Lines are read in order; every batchSize lines the
// good ones are written and a checkpoint (the last line written) is saved with the
// counters, so a worker that takes over an interrupted import skips what was done.
// Counters: read, stored, skipped (the id was stored already: a repeat import),
// failed (reported with the line number in the job's errors).
func (im *Importer) Run(ctx context.Context, t jobs.Task) error {
	var p Params
	if err := t.Decode(&p); err != nil {
		return err
	}
	var cp checkpoint
	if _, err := t.Checkpoint(&cp); err != nil {
		return err
	}
	t.SetTotal(p.Bytes)
	src := &chunkReader{ctx: ctx, ents: im.Store.Entities(), upload: p.Upload, chunks: p.Chunks}
	var next func() (line, int64, error) // the next line and the bytes read so far
	switch p.Format {
	case FormatCSV:
		next = csvLines(src)
	case FormatNDJSON:
		next = ndjsonLines(src)
	default:
		return fmt.Errorf("format %q: %w", p.Format, storage.ErrInvalid)
	}
	done := t.Job().Done
	var batch []line
	var last int64
	flush := func() error {
		if len(batch) == 0 && last <= cp.Line {
			return nil
		}
		// A store that is briefly unavailable (overloaded, failing over) is waited
		// for: writes are idempotent, so a batch is simply written again. Counters
		// are only added once a batch is written.
		var err error
		for wait := time.Second; ; wait *= 2 {
			bt := &bufferedTask{Task: t, counts: map[string]int64{}}
			if p.Kind == KindEvents {
				err = im.writeEvents(ctx, bt, batch)
			} else {
				err = im.writeProfiles(ctx, bt, batch)
			}
			if err == nil {
				bt.apply()
			}
			if err == nil || !errors.Is(err, storage.ErrUnavailable) || wait > 32*time.Second {
				break
			}
			im.Log.Warn("import_batch_retried", "job_id", t.Job().ID, "line", last, "error", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		if err != nil {
			return err
		}
		batch = batch[:0]
		cp.Line = last
		return t.SaveCheckpoint(cp)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l, read, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if read > done {
			t.Advance(read - done)
			done = read
		}
		if l.n <= cp.Line {
			continue // written before an interruption
		}
		last = l.n
		t.Count("read", 1)
		if l.err != "" {
			t.Count("failed", 1)
			t.Report(fmt.Sprintf("line %d: %s", l.n, l.err))
			continue
		}
		batch = append(batch, l)
		if len(batch) >= batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if p.Bytes > done {
		t.Advance(p.Bytes - done)
	}
	return nil
}

// ndjsonLines reads one JSON document per line; blank lines are skipped.
func ndjsonLines(r io.Reader) func() (line, int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var n, read int64
	return func() (line, int64, error) {
		for {
			var buf []byte
			tooLong := false
			for {
				frag, err := br.ReadSlice('\n')
				read += int64(len(frag))
				if !tooLong {
					if len(buf)+len(frag) > MaxLine {
						tooLong, buf = true, nil
					} else {
						buf = append(buf, frag...)
					}
				}
				if err == bufio.ErrBufferFull {
					continue
				}
				if err == io.EOF && len(buf) == 0 && !tooLong {
					return line{}, read, io.EOF
				}
				if err != nil && err != io.EOF {
					return line{}, read, err
				}
				break
			}
			n++
			if tooLong {
				return line{n: n, err: fmt.Sprintf("longer than %d bytes", MaxLine)}, read, nil
			}
			doc := bytes.TrimSpace(buf)
			if len(doc) == 0 {
				continue
			}
			return line{n: n, doc: doc}, read, nil
		}
	}
}

// csvLines reads a CSV file whose first record names the columns: dotted paths such
// as traits.email or properties.price, which become nested fields. A cell that is a
// number, true or false is stored as one; an empty cell is left out.
func csvLines(r io.Reader) func() (line, int64, error) {
	cr := csv.NewReader(io.LimitReader(r, 1<<62))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var header [][]string
	var headerErr string
	return func() (line, int64, error) {
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return line{}, cr.InputOffset(), io.EOF
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return line{n: int64(pe.StartLine), err: pe.Err.Error()}, cr.InputOffset(), nil
			}
			if err != nil {
				return line{}, cr.InputOffset(), err
			}
			ln, _ := cr.FieldPos(0)
			if header == nil && headerErr == "" {
				for _, h := range rec {
					h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
					if !validColumn(h) {
						headerErr = fmt.Sprintf("the header names a column %q that is not a dotted path of letters, digits, '_' and '-'", h)
					}
					header = append(header, strings.Split(h, "."))
				}
				if headerErr != "" {
					return line{}, cr.InputOffset(), fmt.Errorf("line 1: %s", headerErr)
				}
				continue
			}
			if len(rec) != len(header) {
				return line{n: int64(ln), err: fmt.Sprintf("has %d fields, the header %d", len(rec), len(header))}, cr.InputOffset(), nil
			}
			doc := map[string]any{}
			bad := ""
			for i, cell := range rec {
				if cell == "" {
					continue
				}
				if err := setPath(doc, header[i], cellValue(cell)); err != nil && bad == "" {
					bad = err.Error()
				}
			}
			if bad != "" {
				return line{n: int64(ln), err: bad}, cr.InputOffset(), nil
			}
			b, err := json.Marshal(doc)
			if err != nil {
				return line{n: int64(ln), err: err.Error()}, cr.InputOffset(), nil
			}
			return line{n: int64(ln), doc: b}, cr.InputOffset(), nil
		}
	}
}

func validColumn(h string) bool {
	if h == "" || len(h) > 200 {
		return false
	}
	for _, seg := range strings.Split(h, ".") {
		if seg == "" {
			return false
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

func cellValue(s string) any {
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXnN_") && (len(s) < 2 || s[0] != '0' || s[1] == '.') {
		return f
	}
	return s
}

func setPath(doc map[string]any, path []string, v any) error {
	m := doc
	for i, seg := range path[:len(path)-1] {
		sub, ok := m[seg]
		if !ok {
			n := map[string]any{}
			m[seg] = n
			m = n
			continue
		}
		if m, ok = sub.(map[string]any); !ok {
			return fmt.Errorf("column %s: %s is a value and an object", strings.Join(path, "."), strings.Join(path[:i+1], "."))
		}
	}
	if _, ok := m[path[len(path)-1]].(map[string]any); ok {
		return fmt.Errorf("column %s is a value and an object", strings.Join(path, "."))
	}
	m[path[len(path)-1]] = v
	return nil
}

// decodeStrict decodes doc into dst, naming an unknown or mistyped field.
func decodeStrict(doc []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return fmt.Errorf("%s: must be %s", typ.Field, typ.Type.Kind())
		}
		if errors.As(err, &typ) {
			return errors.New("not a JSON object")
		}
		return fmt.Errorf("not a JSON object: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return errors.New("more than one JSON document on the line")
	}
	return nil
}

func validID(field, id string) error {
	if id == "" {
		return fmt.Errorf("%s: is required", field)
	}
	if len(id) > 128 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%s: must be at most 128 characters without control characters", field)
	}
	return nil
}

// eventLine is an imported event: the stored event's shape, plus "time" (when it
// happened) as a shortcut for metadata.time.create.
type eventLine struct {
	domain.Event
	Time domain.Time `json:"time"`
}

func (im *Importer) parseEvent(doc []byte) (*domain.Event, error) {
	var el eventLine
	if err := decodeStrict(doc, &el); err != nil {
		return nil, err
	}
	e := &el.Event
	if err := validID("id", e.ID); err != nil {
		return nil, err
	}
	if e.Type == "" {
		return nil, errors.New("type: is required")
	}
	if err := validID("profile.id", e.Profile.ID); err != nil {
		return nil, err
	}
	t := &e.Metadata.Time
	if t.Create.IsZero() {
		t.Create = el.Time
	}
	if t.Create.IsZero() {
		t.Create = t.Insert
	}
	if t.Create.IsZero() {
		return nil, errors.New("time: is required (or metadata.time.create)")
	}
	if t.Create.After(im.now().Add(24 * time.Hour)) {
		return nil, errors.New("time: is more than a day in the future")
	}
	// The insert time is the event's own time, so that a second import of the same
	// event lands where the first did (the production store partitions events by
	// insert month) and retention treats a backfill by its age.
	if t.Insert.IsZero() {
		t.Insert = t.Create
	}
	if e.Metadata.Status == "" {
		e.Metadata.Status = "imported"
	}
	for _, m := range []*map[string]any{&e.Properties, &e.Traits, &e.Context, &e.Data} {
		if *m == nil {
			*m = map[string]any{}
		}
	}
	if e.Tags.Values == nil {
		e.Tags.Values = []string{}
	}
	return e, nil
}

// writeEvents stores the batch's events whose ids are not stored yet, through the
// bulk path (Store.Commit): no rules, flows, profile changes or deliveries.
func (im *Importer) writeEvents(ctx context.Context, t jobs.Task, batch []line) error {
	var evs []*domain.Event
	seen := map[string]bool{}
	for _, l := range batch {
		e, err := im.parseEvent(l.doc)
		if err != nil {
			t.Count("failed", 1)
			t.Report(fmt.Sprintf("line %d: %s", l.n, err))
			continue
		}
		if seen[e.ID] {
			t.Count("skipped", 1) // the same id twice in the file
			continue
		}
		seen[e.ID] = true
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		return nil
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	have, err := im.Store.Events().Existing(ctx, ids)
	if err != nil {
		return err
	}
	fresh := evs[:0]
	for _, e := range evs {
		if !have[e.ID] {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) > 0 {
		if err := im.Store.Commit(ctx, &storage.Batch{Events: fresh}); err != nil {
			return err
		}
	}
	t.Count("stored", int64(len(fresh)))
	t.Count("skipped", int64(len(ids)-len(fresh)))
	return nil
}

// profileLine is an imported profile.
type profileLine struct {
	ID        string             `json:"id"`
	IDs       []string           `json:"ids"`
	Traits    map[string]any     `json:"traits"`
	Data      map[string]any     `json:"data"`
	Interests map[string]float64 `json:"interests"`
	Active    *bool              `json:"active"`
}

// writeProfiles upserts the batch's profiles by id, under the pipeline's profile
// locks: traits, data and interests are merged key by key into a stored profile
// (the import's values win), ids are added. A profile the import would not change
// is skipped, so a repeat import writes nothing.
func (im *Importer) writeProfiles(ctx context.Context, t jobs.Task, batch []line) error {
	byID := map[string]*profileLine{}
	var order []string
	for _, l := range batch {
		var pl profileLine
		err := decodeStrict(l.doc, &pl)
		if err == nil {
			err = validID("id", pl.ID)
		}
		for _, id := range pl.IDs {
			if err == nil {
				err = validID("ids", id)
			}
		}
		if err != nil {
			t.Count("failed", 1)
			t.Report(fmt.Sprintf("line %d: %s", l.n, err))
			continue
		}
		if byID[pl.ID] == nil {
			order = append(order, pl.ID)
		} else {
			t.Count("skipped", 1) // merged into the earlier line of the same id
			old := byID[pl.ID]
			pl = *mergeLines(old, &pl)
		}
		byID[pl.ID] = &pl
	}
	if len(order) == 0 {
		return nil
	}
	slices.Sort(order) // one lock order for every import
	var unlocks []func()
	defer func() {
		for _, u := range unlocks {
			u()
		}
	}()
	for _, id := range order {
		u, err := im.Locker.Lock(ctx, "profile:"+id)
		if err != nil {
			return err
		}
		unlocks = append(unlocks, u)
	}
	now := domain.NewTime(im.now())
	var changed []*domain.Profile
	for _, id := range order {
		pl := byID[id]
		p, err := im.Store.Profiles().Get(ctx, id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			p = domain.NewProfile(id, now)
			apply(p, pl)
			changed = append(changed, p)
			continue
		case err != nil:
			return err
		}
		if p.Merged() {
			t.Count("failed", 1)
			t.Report(fmt.Sprintf("profile %s: was merged into profile %s; import into that one", id, p.Metadata.MergedInto))
			continue
		}
		before, _ := json.Marshal(p)
		apply(p, pl)
		after, _ := json.Marshal(p)
		if bytes.Equal(before, after) {
			t.Count("skipped", 1)
			continue
		}
		p.Metadata.Time.Update = now
		changed = append(changed, p)
	}
	if len(changed) > 0 {
		if err := im.Store.Commit(ctx, &storage.Batch{Profiles: changed}); err != nil {
			return err
		}
		if im.Forget != nil {
			for _, p := range changed {
				im.Forget(p.ID)
			}
		}
	}
	t.Count("stored", int64(len(changed)))
	return nil
}

func mergeLines(a, b *profileLine) *profileLine {
	out := *a
	out.IDs = append(slices.Clone(a.IDs), b.IDs...)
	for _, m := range []struct {
		dst *map[string]any
		src map[string]any
	}{{&out.Traits, b.Traits}, {&out.Data, b.Data}} {
		*m.dst = maps.Clone(*m.dst)
		if *m.dst == nil {
			*m.dst = map[string]any{}
		}
		maps.Copy(*m.dst, m.src)
	}
	if b.Interests != nil {
		out.Interests = maps.Clone(a.Interests)
		if out.Interests == nil {
			out.Interests = map[string]float64{}
		}
		maps.Copy(out.Interests, b.Interests)
	}
	if b.Active != nil {
		out.Active = b.Active
	}
	return &out
}

func apply(p *domain.Profile, pl *profileLine) {
	p.Normalize()
	for _, id := range pl.IDs {
		if !slices.Contains(p.IDs, id) {
			p.IDs = append(p.IDs, id)
		}
	}
	maps.Copy(p.Traits, pl.Traits)
	maps.Copy(p.Data, pl.Data)
	maps.Copy(p.Interests, pl.Interests)
	if pl.Active != nil {
		p.Active = *pl.Active
	}
}

// bufferedTask holds the counts and reports of one attempt to write a batch until the
// write succeeded, so that a retried batch is counted once.
type bufferedTask struct {
	jobs.Task
	counts  map[string]int64
	names   []string
	reports []string
}

func (b *bufferedTask) Count(name string, n int64) {
	if _, ok := b.counts[name]; !ok {
		b.names = append(b.names, name)
	}
	b.counts[name] += n
}

func (b *bufferedTask) Report(msg string) { b.reports = append(b.reports, msg) }

func (b *bufferedTask) apply() {
	for _, name := range b.names {
		b.Task.Count(name, b.counts[name])
	}
	for _, r := range b.reports {
		b.Task.Report(r)
	}
}
