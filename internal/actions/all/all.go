// Package all registers every built-in node family with the workflow registry. The
// composition root imports it; so do tests that need the whole catalogue.
package all

import (
	_ "github.com/thamesthrive/thamesthrive/internal/actions/connect"
	_ "github.com/thamesthrive/thamesthrive/internal/actions/control"
	_ "github.com/thamesthrive/thamesthrive/internal/actions/data"
	_ "github.com/thamesthrive/thamesthrive/internal/actions/enrich"
	_ "github.com/thamesthrive/thamesthrive/internal/actions/events"
	_ "github.com/thamesthrive/thamesthrive/internal/actions/profile"
	_ "github.com/thamesthrive/thamesthrive/internal/actions/text"
	_ "github.com/thamesthrive/thamesthrive/internal/actions/timing"
)
