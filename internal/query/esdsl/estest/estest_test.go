package estest_test

import (
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/query/esdsl/estest"
	"github.com/thamesthrive/thamesthrive/internal/query/querytest"
)

// TestCorpus runs the shared corpus against the cluster named by
// ELASTIC_HOST; it is skipped when the variable is unset.
func TestCorpus(t *testing.T) {
	querytest.Run(t, estest.FromEnv(t))
}
