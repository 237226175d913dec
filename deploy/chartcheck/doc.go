// Package chartcheck holds the offline checks of what deploy/ ships: the Helm chart,
// rendered through Helm's own packages (what `helm template` and `helm lint` run) and
// decoded strictly into the Kubernetes API types, and compose.yaml, loaded with the
// Compose Specification's loader. Both are held to the deployment policy of
// docs/deployment.md, and every variable they set must be one the product knows
// (docs/configuration.md). It is its own module so that Helm and the Kubernetes types
// never enter the product's go.mod.
package chartcheck
