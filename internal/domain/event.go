package domain

import "strings"

// Event is one thing a visitor or system did.
type Event struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Name       string         `json:"name,omitempty"`
	Metadata   EventMetadata  `json:"metadata"`
	Source     Ref            `json:"source"`
	Session    EventSession   `json:"session"`
	Profile    Ref            `json:"profile"`
	Properties map[string]any `json:"properties"`
	Traits     map[string]any `json:"traits"`
	Context    map[string]any `json:"context"`
	Data       map[string]any `json:"data"`
	Hit        Hit            `json:"hit"`
	UTM        UTM            `json:"utm"`
	Tags       Tags           `json:"tags"`
	Device     Device         `json:"device"`
	OS         OS             `json:"os"`
	App        App            `json:"app"`
	Journey    Journey        `json:"journey"`
}

// EventMetadata holds an event's times and processing record.
type EventMetadata struct {
	Time        EventTime   `json:"time"`
	IP          string      `json:"ip,omitempty"`
	Status      string      `json:"status"`
	Channel     string      `json:"channel,omitempty"`
	ProcessedBy ProcessedBy `json:"processed_by"`
}

// EventTime holds when an event happened (create), reached us (insert) and how long
// processing took (process_time, seconds).
type EventTime struct {
	Insert      Time    `json:"insert"`
	Create      Time    `json:"create"`
	ProcessTime float64 `json:"process_time"`
}

// ProcessedBy lists the rules and flows that ran for an event.
type ProcessedBy struct {
	Rules []string `json:"rules"`
	Flows []string `json:"flows"`
}

// EventSession is the session an event belongs to, as it was when the event arrived.
type EventSession struct {
	ID       string  `json:"id"`
	Start    Time    `json:"start"`
	Duration float64 `json:"duration"`
}

// Hit is the page an event happened on.
type Hit struct {
	Name    string         `json:"name,omitempty"`
	URL     string         `json:"url,omitempty"`
	Referer string         `json:"referer,omitempty"`
	Query   string         `json:"query,omitempty"`
	Extra   map[string]any `json:"-"`
}

// Tags are free labels on an event.
type Tags struct {
	Values []string `json:"values"`
	Count  int      `json:"count"`
}

// Journey is the customer-journey state an event type assigns.
type Journey struct {
	State string `json:"state,omitempty"`
}

// Event statuses.
const (
	EventCollected = "collected"
	EventProcessed = "processed"
	EventInvalid   = "invalid"
)

// NormalizeEventType lower-cases an event type and turns spaces into dashes.
func NormalizeEventType(t string) string {
	t = strings.TrimSpace(strings.ToLower(t))
	return strings.Join(strings.Fields(t), "-")
}
