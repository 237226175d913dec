package domain

// Profile is one customer. Free-form parts (traits, data, aux) are JSON objects so that
// copy rules, workflows and the condition language can address any dotted path in them;
// the parts the engine itself maintains are typed.
type Profile struct {
	ID        string             `json:"id"`
	IDs       []string           `json:"ids"`
	Metadata  ProfileMetadata    `json:"metadata"`
	Stats     ProfileStats       `json:"stats"`
	Traits    map[string]any     `json:"traits"`
	Data      map[string]any     `json:"data"`
	Segments  []string           `json:"segments"`
	Interests map[string]float64 `json:"interests"`
	Consents  map[string]Consent `json:"consents"`
	Active    bool               `json:"active"`
	Aux       map[string]any     `json:"aux"`
}

// ProfileMetadata records a profile's life: when it was made, changed and last seen,
// and where it went if it was merged into another profile.
type ProfileMetadata struct {
	Time       ProfileTime `json:"time"`
	MergedInto string      `json:"merged_into,omitempty"`
	// Merges records the profiles merged into this one (the most recent 100).
	Merges []MergeRecord `json:"merges,omitempty"`
	// Applied lists the events most recently applied to this profile (at most
	// MaxApplied, the oldest first; only on the production backend), written in the same document as the changes they
	// made. On the production backend an event and its profile are separate documents,
	// so a commit can store the event and lose the profile write; the retry of that
	// request finds the event stored, and this list tells whether its change to the
	// profile took effect (see AppliedState).
	Applied []AppliedEvent `json:"applied,omitempty"`
}

// AppliedEvent is one entry of ProfileMetadata.Applied: an event id and when it was
// applied (Unix milliseconds, never before the entry ahead of it).
type AppliedEvent struct {
	ID   string `json:"id"`
	Time int64  `json:"t"`
}

// MaxApplied bounds ProfileMetadata.Applied.
const MaxApplied = 32

// MarkApplied records that the event id was applied to p at now.
func (p *Profile) MarkApplied(id string, now Time) {
	t := now.UnixMilli()
	if n := len(p.Metadata.Applied); n > 0 && p.Metadata.Applied[n-1].Time > t {
		t = p.Metadata.Applied[n-1].Time // kept in order, so that the oldest is first
	}
	p.Metadata.Applied = append(p.Metadata.Applied, AppliedEvent{ID: id, Time: t})
	if n := len(p.Metadata.Applied); n > MaxApplied {
		p.Metadata.Applied = append(p.Metadata.Applied[:0], p.Metadata.Applied[n-MaxApplied:]...)
	}
}

// AppliedState says whether the event id, stored already and inserted at inserted, had
// its change applied to p: applied when p lists it; not applied when p lists other
// events applied after the event was inserted but not it (its profile write was lost);
// unknown otherwise (the list was started or wrapped since then), which callers treat
// as applied so that nothing is counted twice.
func (p *Profile) AppliedState(id string, inserted Time) (applied, known bool) {
	list := p.Metadata.Applied
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].ID == id {
			return true, true
		}
	}
	if len(list) == 0 || inserted.IsZero() || inserted.UnixMilli() <= list[0].Time {
		return false, false
	}
	return false, true
}

// MergeRecord says which profile was merged into this one, when, and on which key.
type MergeRecord struct {
	ProfileID string `json:"profile_id"`
	Key       string `json:"key"`
	Value     string `json:"value"`
	Time      Time   `json:"time"`
	By        string `json:"by"` // "identity" (a shared key) or "workflow"
}

// ProfileTime holds a profile's timestamps.
type ProfileTime struct {
	Insert Time      `json:"insert"`
	Create Time      `json:"create"`
	Update Time      `json:"update"`
	Visit  VisitTime `json:"visit"`
}

// VisitTime tracks visits: the previous and current visit start and how many there were.
type VisitTime struct {
	Last    Time  `json:"last"`
	Current Time  `json:"current"`
	Count   int64 `json:"count"`
}

// ProfileStats are counters kept by the pipeline and by workflows.
type ProfileStats struct {
	Visits   int64              `json:"visits"`
	Views    int64              `json:"views"`
	Counters map[string]float64 `json:"counters"`
}

// Consent is a profile's answer to one consent type.
type Consent struct {
	Granted bool  `json:"granted"`
	Revoke  *Time `json:"revoke,omitempty"`
}

// NewProfile returns an empty, active profile with the given id.
func NewProfile(id string, now Time) *Profile {
	return &Profile{
		ID:       id,
		IDs:      []string{id},
		Metadata: ProfileMetadata{Time: ProfileTime{Insert: now, Create: now, Update: now}},
		Stats:    ProfileStats{Counters: map[string]float64{}},
		Traits:   map[string]any{},
		Data:     map[string]any{},
		Segments: []string{}, Interests: map[string]float64{}, Consents: map[string]Consent{},
		Active: true, Aux: map[string]any{},
	}
}

// Normalize fills nil collections so that stored documents always have the same shape.
func (p *Profile) Normalize() {
	if p.IDs == nil {
		p.IDs = []string{p.ID}
	}
	if p.Stats.Counters == nil {
		p.Stats.Counters = map[string]float64{}
	}
	if p.Traits == nil {
		p.Traits = map[string]any{}
	}
	if p.Data == nil {
		p.Data = map[string]any{}
	}
	if p.Segments == nil {
		p.Segments = []string{}
	}
	if p.Interests == nil {
		p.Interests = map[string]float64{}
	}
	if p.Consents == nil {
		p.Consents = map[string]Consent{}
	}
	if p.Aux == nil {
		p.Aux = map[string]any{}
	}
}

// Merged reports whether the profile is a tombstone left by a merge.
func (p *Profile) Merged() bool { return p.Metadata.MergedInto != "" }
