// Package eval evaluates conditions of the query language in memory,
// against JSON-like documents (one per scope). It is the reference for the
// semantics that query/sqlgen and query/esdsl reproduce; the shared corpus
// in query/querytest holds all three to it.
//
// # Values
//
// Documents hold what encoding/json produces in an any: map[string]any,
// []any, string, float64, bool and nil. Other integer and float types and
// json.Number count as numbers, time.Time as a string in RFC 3339 (and as a
// date when compared with one), other slices and string-keyed maps as
// arrays and objects.
//
// # Paths, arrays and objects
//
// A path is followed through objects. A segment that is an array index
// (query.Index) applied to an array picks that element; any other segment
// applied to an array is applied to each element, and arrays are
// flattened at any depth, so a path stands for a set of values. An
// operator is true when one of those values satisfies it ("any"
// semantics, as in Elasticsearch). Objects are never equal, less or
// greater than anything.
//
// # Kinds
//
// Values compare only with values of the same kind: numbers with
// numbers, strings with strings (byte-wise, which is code point order),
// booleans with booleans (== and != only). A number never equals a string,
// even "5" and 5. When the other side is a date function (now(),
// now.offset(…), datetime(…)), string values that parse with
// query.ParseTime are compared as instants, at millisecond precision
// (sub-millisecond digits are dropped); other values do not match.
// Two fields compare value by value, with the same kind rules; two strings
// compare as strings even when they hold dates (RFC 3339 UTC strings of a
// fixed width order like the instants they name).
//
// # Operators
//
//	a == v            some value of a equals v
//	a == [v1, v2]     some value of a equals one of the list
//	a != v            a has a value of v's kind and none equals v
//	                  (so a missing field, or one of another kind, is not != v)
//	a > v …           some value of a is greater
//	a BETWEEN x AND y some single value v of a has x <= v <= y
//	a CONTAINS "s"    some string value of a contains s; some number or
//	                  boolean value equals it (on an array of strings this
//	                  is a substring test of each element: use == to test
//	                  membership exactly)
//	a CONTAINS [x, y] a CONTAINS x AND a CONTAINS y
//	a STARTS WITH "s", a ENDS WITH "s"   some string value does
//	a EXISTS          a holds a non-null value, at any depth (an object or
//	                  array of nulls, [] and {} do not exist)
//	a IS NULL         NOT a EXISTS (a == null is the same)
//	a EMPTY           NOT a EXISTS, or some value of a is ""
//	NOT EXISTS, NOT EMPTY, IS NOT NULL, != null   the negations
//	lower(a), upper(a) the string values of a with ASCII letters folded
//	                  (other characters are left as they are, as SQLite does)
//
// A missing field never raises: every comparison with it is false.
package eval
