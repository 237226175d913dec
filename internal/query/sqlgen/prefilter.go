package sqlgen

import (
	"slices"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query"
)

// IndexKind says what an Index holds of its field.
type IndexKind int

const (
	// IndexText is a column that holds the field's value in every row, always a string
	// (an event's type, a profile's id).
	IndexText IndexKind = iota + 1
	// IndexTime is a column that holds the field's value in every row, a time written in
	// one fixed UTC layout that sorts as text in time order, "2006-01-02T15:04:05" and a
	// fraction and "Z" (domain.TimeLayout): an event's metadata.time.insert.
	IndexTime
	// IndexValue is PathExpr of the field's document and path, which the store keeps an
	// expression index on.
	IndexValue
)

// Index is a column or an indexed expression that mirrors one field.
type Index struct {
	Expr string // SQL expression, such as "d.inserted" or PathExpr("d.doc", path)
	Kind IndexKind
	// NoSentinel (IndexValue only) says that no document searched has Sentinel as the
	// value of Expr (the store checked, in the snapshot the search reads): a comparison
	// is then stated on Expr alone, without the branch for the documents with arrays, so
	// that SQLite answers it from the index alone (and can count and order by it there).
	NoSentinel bool
}

// Sentinel is the value of PathExpr for a document whose field holds an array or has an
// array on its way: the walk of Where looks into those, so a prefilter lets them through.
const Sentinel = "X'00'"

// PathExpr is the SQL expression an IndexValue index is kept on, for the field at path
// of the JSON document in column doc: the field's value when it is a string or a number
// (as json_extract gives it: TEXT, INTEGER or REAL), Sentinel when it or one of the
// objects on its way is an array, NULL otherwise (missing, null, a boolean, an object).
// So where it is not Sentinel, a comparison of it with a string or a number is the
// condition's own comparison of the field. A store creates its
// expression index with exactly this text (the column name may be given without the
// alias the searches use), so that SQLite matches the expression of Prefilter to it.
func PathExpr(doc string, path []string) string {
	var arrays []string
	p := "$"
	for _, s := range path {
		p += `."` + s + `"`
		arrays = append(arrays, "json_type("+doc+", "+sqlString(p)+") = 'array'")
	}
	full := sqlString(p)
	return "(CASE WHEN " + strings.Join(arrays, " OR ") + " THEN " + Sentinel +
		" WHEN json_type(" + doc + ", " + full + ") IN ('object', 'null', 'true', 'false') THEN NULL ELSE json_extract(" + doc + ", " + full + ") END)"
}

// IndexablePath reports whether path can have an IndexValue index: every segment a
// plain name (no array index), valid in a condition.
func IndexablePath(path []string) bool {
	if len(path) == 0 {
		return false
	}
	for _, s := range path {
		if !query.ValidSegment(s) {
			return false
		}
		if _, isIndex := query.Index(s); isIndex {
			return false
		}
	}
	return true
}

// WhereIndexed is Where for a table some of whose fields are mirrored by a column or an
// indexed expression (indexed, keyed by "scope@dotted.path"). Each conjunct at the top of
// e (the whole of e, or a term of its top-level ANDs) that compares such a field is
// stated on the column, where SQLite can answer it from an index:
//
//   - on an IndexText or IndexTime column, exactly (the column holds the field's value):
//     the document is not read at all;
//   - on an IndexValue expression, exactly where it is not Sentinel, and by Where on the
//     document (its walk through arrays) where it is.
//
// The other conjuncts go to Where together. The comparisons handled are those of a field
// (not lower()/upper() of one) with a string or a number (==, <, <=, >, >=), a list of
// them (==), two of them (BETWEEN), and, on an IndexTime column, a date.
func WhereIndexed(e query.Expr, o Options, indexed map[string]Index) (string, []any, error) {
	if len(indexed) == 0 {
		return Where(e, o)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	terms := query.Terms(e, query.And)
	var conds []string
	var args []any
	var rest query.Expr
	for _, t := range terms {
		c, a, sentinel, ok := onIndex(t, indexed, o.Now)
		if !ok {
			if rest == nil {
				rest = t
			} else {
				rest = &query.Binary{Op: query.And, X: rest, Y: t}
			}
			continue
		}
		if sentinel != "" {
			w, wa, err := Where(t, o)
			if err != nil {
				return "", nil, err
			}
			c = "(" + c + " OR " + sentinel + " AND (" + w + "))"
			a = append(a, wa...)
		}
		conds, args = append(conds, c), append(args, a...)
	}
	if rest != nil {
		w, wa, err := Where(rest, o)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, "("+w+")"), append(args, wa...)
	}
	return strings.Join(conds, " AND "), args, nil
}

// onIndex states t on an indexed column: exactly, or (sentinel != "") exactly where
// sentinel, a condition on the column, is false.
func onIndex(t query.Expr, indexed map[string]Index, now time.Time) (cond string, args []any, sentinel string, ok bool) {
	var x query.Operand
	switch t := t.(type) {
	case *query.Compare:
		x = t.X
	case *query.Between:
		x = t.X
	default:
		return "", nil, "", false
	}
	f, isField := x.(*query.Field)
	if !isField {
		return "", nil, "", false
	}
	ix, found := indexed[f.Scope+"@"+strings.Join(f.Path, ".")]
	if !found {
		return "", nil, "", false
	}
	c := ix.Expr
	if ix.Kind == IndexValue && !ix.NoSentinel {
		sentinel = c + " = " + Sentinel
	}
	// kind bounds the column to values of the literal's kind where the comparison needs
	// it: SQLite orders NULL, numbers, text, blobs (the Sentinel), and its comparison of
	// values of different kinds is not the condition's. An equality needs none, and each
	// range only the bound that its own comparison does not give, so that SQLite takes
	// both from the index (a term it cannot take it computes from the document).
	kind := func(k query.Kind, op query.CompareOp) string {
		lower := op == query.Gt || op == query.Ge
		switch {
		case op == query.Eq:
			return ""
		case ix.Kind == IndexTime && !lower:
			return c + " > '' AND " // the time of a zero time is "" (null in the document)
		case ix.Kind != IndexValue:
			return ""
		case k == query.KindNumber && lower:
			return c + " < '' AND "
		case k == query.KindString && lower:
			return c + " < X'' AND "
		case k == query.KindString:
			return c + " >= '' AND "
		}
		return ""
	}
	lit := func(l *query.Literal) (any, bool) {
		switch {
		case l.Kind == query.KindString:
			return l.Str, true
		case l.Kind == query.KindNumber && ix.Kind == IndexValue:
			return l.Num, true
		}
		return nil, false
	}
	switch t := t.(type) {
	case *query.Compare:
		if t.Op != query.Eq && !t.Op.IsOrdering() {
			return "", nil, "", false
		}
		switch y := t.Y.(type) {
		case *query.Now, *query.DateTime:
			if ix.Kind != IndexTime {
				return "", nil, "", false
			}
			// Where compares julian days of the value cut to milliseconds with the
			// bound cut to milliseconds; on the stored layout (microseconds) that is:
			b := query.TimeAt(y, now).UTC().Truncate(time.Millisecond)
			at, next := storedTime(b), storedTime(b.Add(time.Millisecond))
			switch t.Op {
			case query.Gt:
				return c + " >= ?", []any{next}, "", true
			case query.Ge:
				return c + " >= ?", []any{at}, "", true
			case query.Lt:
				return c + " > '' AND " + c + " < ?", []any{at}, "", true
			case query.Le:
				return c + " > '' AND " + c + " < ?", []any{next}, "", true
			default:
				return c + " >= ? AND " + c + " < ?", []any{at, next}, "", true
			}
		case *query.Literal:
			v, ok := lit(y)
			if !ok {
				return "", nil, "", false
			}
			if ix.Kind == IndexTime && t.Op == query.Eq && y.Str == "" {
				return "0", nil, "", true // no stored time is "" in the document
			}
			return kind(y.Kind, t.Op) + c + " " + sqlOp(t.Op) + " ?", []any{v}, sentinel, true
		case *query.List:
			if t.Op != query.Eq || len(y.Elems) == 0 {
				return "", nil, "", false
			}
			var vals []any
			for _, l := range y.Elems {
				v, ok := lit(l)
				if !ok {
					return "", nil, "", false
				}
				vals = append(vals, v)
			}
			marks := strings.Repeat("?, ", len(vals))
			in := c + " IN (" + marks[:len(marks)-2] + ")"
			if ix.Kind == IndexTime && slices.Contains(vals, any("")) {
				in = c + " > '' AND " + in
			}
			return in, vals, sentinel, true
		}
	case *query.Between:
		switch lo := t.Low.(type) {
		case *query.Now, *query.DateTime:
			if ix.Kind != IndexTime || !query.IsDate(t.High) {
				return "", nil, "", false
			}
			l := query.TimeAt(lo, now).UTC().Truncate(time.Millisecond)
			h := query.TimeAt(t.High, now).UTC().Truncate(time.Millisecond)
			return c + " >= ? AND " + c + " < ?", []any{storedTime(l), storedTime(h.Add(time.Millisecond))}, "", true
		case *query.Literal:
			hi, ok := t.High.(*query.Literal)
			if !ok || hi.Kind != lo.Kind {
				return "", nil, "", false
			}
			l, ok1 := lit(lo)
			h, ok2 := lit(hi)
			if !ok1 || !ok2 {
				return "", nil, "", false
			}
			// both bounds of one kind: the range holds values of that kind alone (a zero
			// time's "" sorts before any, unless both bounds are "")
			if ix.Kind == IndexTime {
				return c + " > '' AND " + c + " >= ? AND " + c + " <= ?", []any{l, h}, sentinel, true
			}
			return c + " >= ? AND " + c + " <= ?", []any{l, h}, sentinel, true
		}
	}
	return "", nil, "", false
}

// storedTime writes t as the stored times are written (domain.TimeLayout).
func storedTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
