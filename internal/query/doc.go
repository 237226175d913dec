// Package query owns ThamesThrive's condition language: the one language
// used by rules, workflow "if" nodes, segments, destination filters and the
// GUI's search boxes (docs/conditions.md).
//
// The package holds the lexer, the parser, the AST and the printer, and
// nothing else: evaluation lives in query/eval, SQL generation in
// query/sqlgen and the Elasticsearch/OpenSearch query DSL in query/esdsl.
// The AST holds no runtime state, so a parsed condition can be shared
// between goroutines and compiled by every back end.
//
// # Grammar
//
//	expr      = and { "OR" and } .
//	and       = unary { "AND" unary } .
//	unary     = "NOT" unary | "(" expr ")" | condition .
//	condition = operand ( cmpop value
//	                    | "BETWEEN" value "AND" value
//	                    | "CONTAINS" value | "STARTS" "WITH" value | "ENDS" "WITH" value
//	                    | "EXISTS" | "NOT" "EXISTS" | "EMPTY" | "NOT" "EMPTY"
//	                    | "IS" "NULL" | "IS" "NOT" "NULL" ) .
//	cmpop     = "==" | "=" | "!=" | ">" | ">=" | "<" | "<=" .
//	operand   = field | ( "lower" | "upper" ) "(" field ")" .
//	value     = string | number | "true" | "false" | "null" | list | operand
//	          | "now" "(" ")" | "now.offset" "(" string ")" | "datetime" "(" string ")" .
//	list      = "[" [ literal { "," literal } ] "]" .
//	field     = [ scope "@" ] segment { "." segment } .
//	scope     = "profile" | "session" | "event" | "payload" | "flow" | "memory" .
//	segment   = wordchar { wordchar } .    wordchar = letter | digit | "_" | "-" .
//
// AND binds tighter than OR, NOT tighter than AND. Keywords, function
// names and scopes are case-insensitive; paths are case-sensitive. Strings
// are written in double or single quotes with JSON-style escapes (\" \'
// \\ \/ \b \f \n \r \t \uXXXX). Numbers are decimal with an optional
// fraction and exponent.
//
// A field without a scope is only accepted when ParseOptions.DefaultScope
// is set (the search boxes of the GUI); otherwise it is an error naming
// its position.
//
// # Paths
//
// A path segment made of digits only (without a leading zero, below one
// billion) is an index when the value it is applied to is an array, and a
// key when it is an object: items.0.name is the name of the first item. A
// non-index segment applied to an array applies to every element (arrays
// are flattened at any depth), so items.name is the set of all the items'
// names. An operator on a field holding several values is true when it is
// true for any one of them (except != and NOT forms, see the eval package
// for the exact semantics shared by all back ends). Keys holding other
// characters than letters, digits, "_" and "-" cannot be named.
//
// # Limits
//
// Sources longer than MaxSourceLen bytes, nesting deeper than MaxDepth
// and trees of more than MaxNodes nodes are rejected, so that no input can
// make parsing or evaluation slow.
package query
