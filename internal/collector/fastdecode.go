package collector

import "github.com/thamesthrive/thamesthrive/internal/jsonfast"

// decodeTrackFast decodes the usual shape of a /track body without reflection, on the
// scanner the stored-document decoder uses too (internal/jsonfast). It answers false
// for anything it does not decode exactly as encoding/json would: null for a typed
// field, unknown or repeated keys (encoding/json matches keys case-insensitively and
// merges repeated objects), event times, invalid UTF-8, numbers out of range, and any
// syntax error. DecodeTrack then decodes the body with encoding/json, which also words
// the errors, so the answer is the same either way (TestDecodeTrackFastMatchesEncodingJSON
// compares them on many bodies).
func decodeTrackFast(body []byte, req *TrackRequest) bool {
	d := fastDecoder{jsonfast.New(body)}
	return d.trackRequest(req) && d.End()
}

type fastDecoder struct{ jsonfast.Decoder }

func (d *fastDecoder) idRef(r *IDRef) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		return string(k) == "id" && jsonfast.Once(&seen, 1) && d.StrField(&r.ID)
	})
}

func (d *fastDecoder) boolPtr(p **bool) bool {
	var v bool
	if !d.BoolField(&v) {
		return false
	}
	*p = &v
	return true
}

func (d *fastDecoder) trackRequest(r *TrackRequest) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "source":
			return jsonfast.Once(&seen, 1<<0) && d.idRef(&r.Source)
		case "session":
			r.Session = new(IDRef)
			return jsonfast.Once(&seen, 1<<1) && d.idRef(r.Session)
		case "profile":
			r.Profile = new(IDRef)
			return jsonfast.Once(&seen, 1<<2) && d.idRef(r.Profile)
		case "context":
			return jsonfast.Once(&seen, 1<<3) && d.AnyMap(&r.Context)
		case "properties":
			return jsonfast.Once(&seen, 1<<4) && d.AnyMap(&r.Properties)
		case "options":
			var opt uint32
			return jsonfast.Once(&seen, 1<<5) && d.Object(func(k []byte) bool {
				switch string(k) {
				case "saveSession":
					return jsonfast.Once(&opt, 1) && d.boolPtr(&r.Options.SaveSession)
				case "saveEvents":
					return jsonfast.Once(&opt, 2) && d.boolPtr(&r.Options.SaveEvents)
				}
				return false
			})
		case "profile_less":
			return jsonfast.Once(&seen, 1<<7) && d.BoolField(&r.ProfileLess)
		case "events":
			r.Events = []TrackEvent{}
			return jsonfast.Once(&seen, 1<<6) && d.Array(func() bool {
				r.Events = append(r.Events, TrackEvent{})
				return d.event(&r.Events[len(r.Events)-1])
			})
		}
		return false
	})
}

func (d *fastDecoder) event(e *TrackEvent) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&e.ID)
		case "type":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&e.Type)
		case "name":
			return jsonfast.Once(&seen, 1<<2) && d.StrField(&e.Name)
		case "properties":
			return jsonfast.Once(&seen, 1<<3) && d.AnyMap(&e.Properties)
		case "context":
			return jsonfast.Once(&seen, 1<<4) && d.AnyMap(&e.Context)
		case "traits":
			return jsonfast.Once(&seen, 1<<5) && d.AnyMap(&e.Traits)
		case "options":
			var opt uint32
			return jsonfast.Once(&seen, 1<<6) && d.Object(func(k []byte) bool {
				return string(k) == "save" && jsonfast.Once(&opt, 1) && d.boolPtr(&e.Options.Save)
			})
		case "tags":
			return jsonfast.Once(&seen, 1<<7) && d.Strings(&e.Tags)
		}
		return false
	})
}
