package tracker

import (
	"bytes"
	"compress/gzip"
	"testing"
)

// The budget: at most 6 KB gzipped.
func TestScriptSize(t *testing.T) {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(Script())
	zw.Close()
	if len(Script()) == 0 {
		t.Fatal("the embedded tracker is empty: run make tracker")
	}
	if b.Len() > 6*1024 {
		t.Fatalf("tracker.js is %d bytes gzipped; the budget is 6144", b.Len())
	}
	t.Logf("tracker.js: %d bytes, %d gzipped", len(Script()), b.Len())
}
