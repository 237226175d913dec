package domain

import "slices"

// Entity kinds: the kinds configuration entities and records are stored under
// (storage.Entity.Kind). They are named here, once, so that every package that reads
// or writes a kind — the stage that uses it, the API that edits it, the replicas that
// invalidate their caches on its changes — agrees on the spelling.
const (
	EntitySource           = "source"            // Source
	EntityEventType        = "event-type"        // event-type mapping and schema (internal/mapping)
	EntitySegment          = "segment"           // Segment
	EntityRule             = "rule"              // Rule
	EntityFlow             = "flow"              // Flow (draft and versions)
	EntityFlowDeployment   = "flow-deployment"   // id: flow id; the version rules run
	EntityFlowHistory      = "flow-history"      // id: flow id; the deployed versions kept
	EntityResource         = "resource"          // workflow resource (credentials, endpoints)
	EntityDestination      = "destination"       // Destination
	EntityDestinationState = "destination-state" // id: destination id; paused or not (internal/worker)
	EntityConsentType      = "consent-type"      // ConsentType
	EntitySchedule         = "schedule"          // Schedule
	EntityScheduleState    = "schedule-state"    // id: schedule id; the last due time fired (internal/later)
	EntityLink             = "link"              // Link (tracked links, /redirect/{id})
	EntityReportDefinition = "report-definition" // ReportDefinition
	EntityJob              = "job"               // background job record
	EntityAudit            = "audit"             // audit-log entry
	EntityUser             = "user"              // user account
	EntityToken            = "token"             // API token (stored as its hash)
	EntityInstall          = "install"           // the one-time installation record
	EntityImportChunk      = "import-chunk"      // id: <upload>-<n>; one MiB of an import's upload (internal/imports)
)

var entityKinds = []string{EntitySource, EntityEventType, EntitySegment, EntityRule, EntityFlow,
	EntityFlowDeployment, EntityFlowHistory, EntityResource, EntityDestination, EntityDestinationState, EntityConsentType, EntitySchedule, EntityScheduleState, EntityReportDefinition,
	EntityJob, EntityAudit, EntityUser, EntityToken, EntityInstall, EntityImportChunk}

// EntityKinds lists every entity kind, in the order of the constants.
func EntityKinds() []string { return slices.Clone(entityKinds) }

// ValidEntityKind reports whether kind is one of EntityKinds.
func ValidEntityKind(kind string) bool { return slices.Contains(entityKinds, kind) }

// ValidKeyPath reports whether path is a dotted path of lower-case letters, digits and
// underscores (a profile field a merge key may name), safe to use in index definitions.
func ValidKeyPath(path string) bool {
	if path == "" || len(path) > 200 || path[0] == '.' || path[len(path)-1] == '.' {
		return false
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' && path[i-1] != '.') {
			return false
		}
	}
	return true
}
