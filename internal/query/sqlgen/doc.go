// Package sqlgen turns a condition of the query language into a WHERE
// fragment for SQLite (the embedded store), over documents kept whole as
// JSON text, one row per document.
//
// The SQL gives the same answers as query/eval on every case of the shared
// corpus (query/querytest); see the eval package for the semantics. How
// they map:
//
//   - Paths. A path whose prefixes are all objects is read directly with
//     json_type/json_extract. Otherwise (an array on the way, an index
//     segment, a missing field) a recursive CTE walks the document with
//     json_each: object members by key, array elements by index for index
//     segments, every element (at any depth) otherwise, flattening arrays
//     found at the end of the path. Each operator then asks whether one of
//     the values found satisfies it (EXISTS over the values).
//   - Kinds come from json_type: 'integer'/'real' are numbers, 'text'
//     strings, 'true'/'false' booleans. Strings compare with the BINARY
//     collation (byte order, like Go and Elasticsearch keywords); CONTAINS,
//     STARTS WITH and ENDS WITH use instr and substr, never LIKE, so % and
//     _ are plain characters.
//   - Dates. A text value is a date when it has one of the forms
//     query.ParseTime accepts (checked with GLOB patterns and date()),
//     its fraction cut to milliseconds (SQLite would round it), and is
//     compared with julianday() against julianday(?) of the bound,
//     formatted by Go at millisecond precision.
//   - EXISTS descends into objects with json_tree, looking for a value
//     other than null; EMPTY is NOT EXISTS or a value "".
//   - lower() and upper() use SQLite's, which fold ASCII letters only; the
//     other back ends do the same.
//
// Every predicate yields 0 or 1, never NULL, so NOT is a plain negation.
// Column expressions should be qualified with their table alias (p.doc):
// the generated subqueries use columns named key, value, type, atom,
// fullkey, path, json and root (from json_each and json_tree) and qk, qi,
// qt, qv.
package sqlgen
