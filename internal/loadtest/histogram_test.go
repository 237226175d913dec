package loadtest

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverValues(t *testing.T) {
	vals := []int64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 123456, 1 << 30, 1<<40 + 12345, 1<<62 + 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		vals = append(vals, r.Int64N(1<<45))
	}
	for _, v := range vals {
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if v >= subCount && float64(hi-lo) > float64(lo)/subCount {
			t.Fatalf("bucket %d [%d, %d] wider than 1/%d of its values", i, lo, hi, subCount)
		}
	}
	// Buckets are contiguous: each starts right after the previous one ends.
	for i := 1; i < 40*subCount; i++ {
		_, prevHi := bucketRange(i - 1)
		lo, _ := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
		}
	}
}

func TestQuantilesMatchSortedSample(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{"uniform µs", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(time.Millisecond))) }},
		{"exponential", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(300*time.Microsecond)) }},
		{"long tail", func(r *rand.Rand) time.Duration {
			if r.IntN(100) == 0 {
				return time.Duration(r.Int64N(int64(2 * time.Second)))
			}
			return time.Duration(50_000 + r.Int64N(200_000))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			var h Histogram
			var sample []time.Duration
			for range 100000 {
				d := tc.gen(r)
				h.Record(d)
				sample = append(sample, d)
			}
			slices.Sort(sample)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				exact := sample[int(q*float64(len(sample)))-1]
				got := h.Quantile(q)
				if got < exact || float64(got-exact) > float64(exact)/subCount+1 {
					t.Errorf("q%.3f: got %v, exact %v", q, got, exact)
				}
			}
			if h.Max() != sample[len(sample)-1] || h.Min() != sample[0] {
				t.Errorf("min/max %v/%v, want %v/%v", h.Min(), h.Max(), sample[0], sample[len(sample)-1])
			}
			if h.Count() != uint64(len(sample)) {
				t.Errorf("count %d", h.Count())
			}
		})
	}
}

func TestMergeEqualsRecordingAll(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var all, a, b, empty Histogram
	for i := range 5000 {
		d := time.Duration(r.Int64N(int64(10 * time.Millisecond)))
		if i%3 == 0 {
			d *= 100 // b grows more buckets than a
			b.Record(d)
		} else {
			a.Record(d)
		}
		all.Record(d)
	}
	var m Histogram
	m.Merge(&empty)
	m.Merge(&a)
	m.Merge(&b)
	if m.Summary() != all.Summary() {
		t.Fatalf("merged %+v\nall    %+v", m.Summary(), all.Summary())
	}
}

func TestEmptyAndEdgeValues(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Mean() != 0 || h.Summary().Count != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	h.Record(-5)
	h.Record(3 * time.Second)
	if h.Min() != 0 || h.Max() != 3*time.Second {
		t.Fatalf("min %v max %v", h.Min(), h.Max())
	}
	if q := h.Quantile(0.5); q != 0 {
		t.Fatalf("p50 of {0, 3s} = %v, want 0", q)
	}
	if q := h.Quantile(1); q != 3*time.Second {
		t.Fatalf("p100 = %v", q)
	}
}
