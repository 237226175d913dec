package domain

import (
	"fmt"

	"github.com/thamesthrive/thamesthrive/internal/jsonfast"
)

// FastDecode runs the hand-written decoder alone on a fresh value of v's type and
// reports whether it handled data (for the external tests).
func FastDecode(data []byte, v any) bool {
	d := docDecoder{jsonfast.New(data)}
	switch x := v.(type) {
	case *Profile:
		return d.profile(x) && d.End()
	case *Session:
		return d.session(x) && d.End()
	case *Event:
		return d.event(x) && d.End()
	}
	panic(fmt.Sprintf("FastDecode: %T", v))
}
