package domain

// Session is one visit of a profile, enriched from the request that started it.
type Session struct {
	ID         string          `json:"id"`
	Profile    Ref             `json:"profile"`
	Metadata   SessionMetadata `json:"metadata"`
	Device     Device          `json:"device"`
	OS         OS              `json:"os"`
	App        App             `json:"app"`
	UTM        UTM             `json:"utm"`
	Context    map[string]any  `json:"context"`
	Properties map[string]any  `json:"properties"`
}

// Ref points at another document by id.
type Ref struct {
	ID string `json:"id"`
}

// SessionMetadata holds a session's times, status and channel.
type SessionMetadata struct {
	Time    SessionTime `json:"time"`
	Status  string      `json:"status"`
	Channel string      `json:"channel,omitempty"`
}

// SessionTime holds when a session started and how long it has lasted (seconds).
type SessionTime struct {
	Insert    Time    `json:"insert"`
	Timestamp Time    `json:"timestamp"`
	Duration  float64 `json:"duration"`
}

// Session statuses.
const (
	SessionStarted = "started"
	SessionActive  = "active"
	SessionEnded   = "ended"
)

// Device describes the visitor's device.
type Device struct {
	Name       string `json:"name,omitempty"`
	Brand      string `json:"brand,omitempty"`
	Model      string `json:"model,omitempty"`
	Type       string `json:"type,omitempty"`
	IP         string `json:"ip,omitempty"`
	Resolution string `json:"resolution,omitempty"`
	Geo        *Geo   `json:"geo,omitempty"`
}

// Geo is a geographic location.
type Geo struct {
	Country   string  `json:"country,omitempty"`
	City      string  `json:"city,omitempty"`
	Latitude  float64 `json:"latitude,omitempty"`
	Longitude float64 `json:"longitude,omitempty"`
}

// OS is the visitor's operating system.
type OS struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// App is the visitor's browser or application.
type App struct {
	Type     string `json:"type,omitempty"`
	Name     string `json:"name,omitempty"`
	Version  string `json:"version,omitempty"`
	Language string `json:"language,omitempty"`
	Bot      bool   `json:"bot"`
}

// UTM holds campaign parameters.
type UTM struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Term     string `json:"term,omitempty"`
	Content  string `json:"content,omitempty"`
}
