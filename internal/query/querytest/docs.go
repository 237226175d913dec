package querytest

// M and A keep the documents below short.
type (
	M = map[string]any
	A = []any
)

// people are five profiles; p4 holds nothing but its id.
func people() []M {
	return []M{
		{"id": "p1",
			"stats":  M{"visits": 12, "views": 40, "ratio": 0.25},
			"traits": M{"vip": true, "tier": "gold", "nick": "", "age": 34, "code": "12345"},
			"data": M{
				"contact": M{"email": M{"main": "Ann@Example.com"}, "phone": M{"main": "+44 20 7946 0000"}},
				"pii":     M{"firstname": "Ann", "lastname": "Lee"},
			},
			"segments":  A{"returning", "vip"},
			"interests": M{"sport": 3, "music": 1},
			"metadata": M{"time": M{"insert": "2024-06-14T12:00:00.000000Z",
				"visit": M{"last": "2024-06-15T11:50:00.000000Z", "count": 12}}},
			"active": true,
		},
		{"id": "p2",
			"stats":     M{"visits": 3, "views": 3, "ratio": 1},
			"traits":    M{"vip": false, "tier": "silver", "nick": "bob", "age": 19, "code": "007"},
			"data":      M{"contact": M{"email": M{"main": "bob@test.org"}}, "pii": M{"firstname": "Bob"}},
			"segments":  A{"new"},
			"interests": M{},
			"metadata": M{"time": M{"insert": "2024-05-01T00:00:00.000000Z",
				"visit": M{"last": "2024-06-01T08:00:00.000000Z", "count": 3}}},
			"active": false,
		},
		{"id": "p3",
			"stats":    M{"visits": 0},
			"traits":   M{"nick": nil, "tier": "Gold"},
			"data":     M{"contact": M{"email": M{"main": nil}}},
			"segments": A{},
			"metadata": M{"time": M{"insert": "2023-12-31T23:59:59.999000Z"}},
			"active":   true,
		},
		{"id": "p4"},
		{"id": "p5",
			"stats":    M{"visits": 150, "views": 1000, "ratio": -0.5},
			"traits":   M{"vip": true, "tier": "platinum", "age": 61, "code": "99"},
			"data":     M{"contact": M{"email": M{"main": "carol@example.com"}}, "pii": M{"firstname": "Émile", "lastname": "Ünal"}},
			"segments": A{"returning", "big-spender", "non-returning"},
			"metadata": M{"time": M{"insert": "2022-01-01T00:00:00.000000Z",
				"visit": M{"last": "2024-06-15T11:59:59.999000Z"}}},
		},
	}
}

// events are five events with arrays of objects and nested arrays.
func events() []M {
	return []M{
		{"id": "e1", "type": "page-view",
			"properties": M{"price": 120, "currency": "EUR", "amount": 10, "items": A{
				M{"sku": "A1", "qty": 2, "tags": A{"red", "big"}},
				M{"sku": "B2", "qty": 1, "tags": A{"blue"}},
			}},
			"tags":     M{"values": A{"web", "promo"}, "count": 2},
			"session":  M{"duration": 30},
			"metadata": M{"time": M{"insert": "2024-06-15T11:45:00.000000Z"}},
		},
		{"id": "e2", "type": "purchase",
			"properties": M{"price": 99.99, "currency": "USD", "amount": 50, "items": A{
				M{"sku": "C3", "qty": 5, "tags": A{}},
			}},
			"metadata": M{"time": M{"insert": "2024-06-14T12:00:00.000000Z"}},
		},
		{"id": "e3", "type": "sign-in",
			"properties": M{"amount": 50.5, "items": A{}},
			"tags":       M{"values": A{}, "count": 0},
			"metadata":   M{"time": M{"insert": "2024-06-01T00:00:00.000000Z"}},
		},
		{"id": "e4", "type": "page-view",
			"properties": M{"price": 5, "items": A{
				M{"sku": "A1", "qty": nil},
				M{"sku": "D4", "qty": 7, "tags": A{"red"}},
			}},
			"metadata": M{"time": M{"insert": "2024-06-15T12:00:00.000000Z"}},
		},
		{"id": "e5", "type": "Page-View",
			"properties": M{"matrix": A{A{1, 2}, A{3, A{4}}}, "currency": "EUR"},
		},
	}
}

// dated holds one field, when, in the forms a date may take.
func dated() []M {
	return []M{
		{"id": "d1", "when": "2024-06-15T11:00:00.123456Z"},
		{"id": "d2", "when": "2024-06-15T13:00:00+02:00"},
		{"id": "d3", "when": "2024-06-15"},
		{"id": "d4", "when": "not a date"},
		{"id": "d5", "when": "2024-06-15T11:00:00.1239Z"},
		{"id": "d6", "when": "2024-06-15 11:00:00"},
		{"id": "d7", "when": "2024-02-30"}, // rolls over to 2024-03-01
		{"id": "d8", "when": A{"2023-01-01T00:00:00Z", "2024-06-15T11:30:00Z"}},
	}
}

// shapes holds one string field, v, empty in every possible way.
func shapes() []M {
	return []M{
		{"id": "s1", "v": "x"},
		{"id": "s2", "v": ""},
		{"id": "s3", "v": nil},
		{"id": "s4"},
		{"id": "s5", "v": A{}},
		{"id": "s6", "v": A{""}},
		{"id": "s7", "v": A{nil}},
		{"id": "s8", "v": A{"a", ""}},
		{"id": "s9", "v": A{nil, "b"}},
	}
}

// objects holds one object field, o, empty in every possible way.
func objects() []M {
	return []M{
		{"id": "o1", "o": M{}},
		{"id": "o2", "o": M{"a": nil}},
		{"id": "o3", "o": M{"a": 1}},
		{"id": "o4"},
		{"id": "o5", "o": nil},
		{"id": "o6", "o": M{"n": M{"b": nil}}},
		{"id": "o7", "o": M{"n": M{"b": false}}},
		{"id": "o8", "o": A{M{"a": nil}, M{"a": 2}}},
	}
}

// pairs holds fields to compare with each other.
func pairs() []M {
	return []M{
		{"id": "q1", "a": "hello", "b": "he", "n": 5, "m": A{1, 5}, "u": "X", "l": "x"},
		{"id": "q2", "a": "hello", "b": "lo", "n": 2, "m": A{3}, "u": "y", "l": "Y"},
		{"id": "q3", "a": "x", "n": 7, "u": "z", "l": "w"},
		{"id": "q4", "b": "x", "m": A{}},
	}
}

// specials holds strings with the characters search syntaxes reserve.
func specials() []M {
	return []M{
		{"id": "x1", "s": "50% off*"},
		{"id": "x2", "s": "a?b"},
		{"id": "x3", "s": `back\slash`},
		{"id": "x4", "s": "plain [x] (y) {z} a.b|c+d^e$f\"g'h#i@j&k<l>m~n"},
		{"id": "x5", "s": "Café *[Menu]* ~1"},
	}
}

// flags holds arrays of booleans.
func flags() []M {
	return []M{
		{"id": "b1", "flags": A{true}},
		{"id": "b2", "flags": A{false, false}},
		{"id": "b3", "flags": A{}},
		{"id": "b4", "flags": A{true, false}},
	}
}
