package elastic

func cacheKey(kind, id string) string { return kind + ":" + id }
