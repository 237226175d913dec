// Package esdsl turns a condition of the query language into an
// Elasticsearch/OpenSearch query (the query DSL as plain maps that
// marshal to JSON). It has no client: the production store sends the
// query. No painless scripts are used.
//
// The queries give the same answers as query/eval (see its package
// documentation for the semantics) on every case of the shared corpus
// (query/querytest) that search can express, provided the index is
// mapped as Mapping returns and the generator is told the mapped type of
// each field (Options.Kinds, from KindsFromMapping).
//
// # The mapping this package relies on
//
//   - date_detection and numeric_detection off: a string stays a string.
//   - Every string is a keyword (ignore_above 1024: longer strings are not
//     indexed and so invisible to search), with a date sub-field named
//     DateSubfield (format strict_date_time, strict_date_time_no_millis or
//     strict_date, ignore_malformed) that holds the instant of strings in
//     the forms query.ParseTime accepts, at millisecond precision.
//   - Every number (integer or not) is a double, so that 1 and 1.5 can
//     share a field and compare as numbers (integers beyond 2^53 lose
//     precision, as they do in eval).
//   - Booleans are booleans; objects are objects (not nested), so arrays
//     of objects are flattened: items.sku holds the skus of every item.
//
// Fields the store maps explicitly must follow the same kinds (keyword,
// double, boolean, object); a field mapped as date is compared with date
// functions directly and may not be compared with strings.
//
// # How the semantics map
//
//   - Arrays: Elasticsearch indexes the values of an array as a set, which
//     is the "some value" semantics of the language. BETWEEN is a single
//     range query, true when one value is in range, as in eval.
//   - Kinds: a comparison whose literal's kind differs from the field's
//     mapped kind matches nothing (a number never equals a keyword "5").
//     Without Options.Kinds the generator assumes every field has the
//     kind of what it is compared with.
//   - != is "has a value of that kind and none equal": a filter on
//     exists and a must_not on the equality.
//   - Strings: term, range (byte order, as Go and SQLite compare), prefix
//     and wildcard with the wildcard characters escaped.
//   - lower() and upper() fold ASCII letters only (as SQLite does):
//     equality, CONTAINS, STARTS WITH and ENDS WITH use case_insensitive
//     term, prefix and wildcard queries when the text is ASCII, and a
//     regexp with [aA]-style classes otherwise; a literal that the fold
//     could never produce matches nothing. Ordering lower()/upper() is not
//     supported.
//   - Dates: a field compared with now(), now.offset(…) or datetime(…) is
//     queried on its DateSubfield with term and range queries, bounds
//     formatted at millisecond precision.
//   - EXISTS is the exists query, which on an object is true when any
//     field below it has a value; EMPTY is NOT EXISTS or a term "".
//   - Not supported (errors wrapping query.ErrUnsupported): comparing two
//     fields, ordering lower()/upper(), and index segments in paths
//     (items.0.sku), since an index does not keep array positions.
package esdsl
