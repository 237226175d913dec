package domain

// Meta is what every configuration entity carries.
type Meta struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	Tags        []string `json:"tags"`
	Version     int64    `json:"version"`
	Created     Time     `json:"created"`
	Updated     Time     `json:"updated"`
}

// Source is an event source: a website, app or back end allowed to send events.
type Source struct {
	Meta
	Type           string   `json:"type"`
	AllowedOrigins []string `json:"allowed_origins"`
	// WriteKey names this source on the Segment-compatible /v1 routes (Basic-auth
	// username or "writeKey" in the body). Generated when left empty; not a secret: it
	// is shipped in web pages, as Segment's is.
	WriteKey string `json:"write_key"`
	// AllowedHeaders are request headers a browser may send to this source's routes
	// besides the defaults (Content-Type, Authorization, X-Timestamp…), answered to CORS
	// preflights that name the source (/collect/{type}/{source}).
	AllowedHeaders []string `json:"allowed_headers,omitempty"`
	// Trusted marks a server-side integration: its client-chosen profile and session
	// ids are kept, and the Segment context.ip is taken as the visitor's address.
	// Browser sources (the default) get server-made ids.
	Trusted bool `json:"trusted"`
}

// Source types.
const (
	SourceREST    = "rest"
	SourceWebhook = "webhook"
)

// User is a person who uses the GUI API.
type User struct {
	ID           string   `json:"id"`
	Username     string   `json:"username"`
	Name         string   `json:"name,omitempty"`
	PasswordHash string   `json:"password_hash,omitempty"`
	Roles        []string `json:"roles"`
	Enabled      bool     `json:"enabled"`
	Version      int64    `json:"version"`
	Created      Time     `json:"created"`
	Updated      Time     `json:"updated"`
	// PasswordChanged invalidates tokens issued before it.
	PasswordChanged Time `json:"password_changed"`
}

// Roles.
const (
	RoleAdmin      = "admin"
	RoleDeveloper  = "developer"
	RoleMarketer   = "marketer"
	RoleMaintainer = "maintainer"
)

// GetMeta gives generic code (the API's resource handlers) access to the common fields
// of any entity that embeds Meta.
func (m *Meta) GetMeta() *Meta { return m }
