// Package enrich holds node types that add what can be learnt from the request:
// browser, system and device from the user agent, and location from the IP address
// (a MaxMind-format database file).
package enrich

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/thamesthrive/thamesthrive/internal/cache"
	"github.com/thamesthrive/thamesthrive/internal/useragent"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

const category = "Enrichment"

func init() {
	workflow.Register(workflow.Spec{
		ID: "user-agent", Name: "Parse user agent", Category: category,
		Description: "Parses a user-agent string into browser, browser version, operating system, device type and whether it is a bot.",
		Doc: "By default it reads the user agent the session was started with. The session is enriched this way " +
			"already when it starts; use this node for user agents sent in event properties, or to copy the " +
			"result onto the profile.",
		Fields: []workflow.Field{
			workflow.TemplateField("user_agent", "The user-agent string; a template.").Def("{{session@context.user_agent}}"),
			workflow.RefField("to", "Where to store the result as well.").Write().Ex("profile@data.devices.last.agent"),
		},
		Examples: []workflow.Example{{Title: "Onto the profile", Config: `{"user_agent": "{{event@properties.ua}}", "to": "profile@data.devices.last.agent"}`}},
		New:      func() workflow.Action { return new(UserAgent) },
	})
	workflow.Register(workflow.Spec{
		ID: "geo-ip", Name: "Geo-IP lookup", Category: category,
		Description: "Looks an IP address up in a MaxMind-format (GeoIP2 / GeoLite2 City or Country) database file and emits the location.",
		Doc: "The database file is read from the server's disk (memory-mapped, shared by every flow using it, " +
			"reopened when the file changes). The result has country (ISO code), country_name, continent, " +
			"region, city, postal, latitude, longitude and time_zone, when the database knows them. " +
			"An address the database does not know goes to the not-found port.",
		Fields: []workflow.Field{
			workflow.StringField("database", "Path of the .mmdb file on the server.").Req().Range(1, 4096).Ex("/var/lib/geoip/GeoLite2-City.mmdb"),
			workflow.TemplateField("ip", "The IP address; a template.").Def("{{event@metadata.ip}}"),
			workflow.StringField("language", "Language of the names.").Def("en").Adv(),
			workflow.RefField("to", "Where to store the location as well.").Write().Ex("profile@data.devices.last.geo"),
		},
		Outputs: []workflow.Port{
			{Name: "payload", Description: "The location."},
			{Name: "not-found", Description: "The payload, when the address is not in the database."},
		},
		Examples: []workflow.Example{{Title: "Locate the visitor", Config: `{"database": "/var/lib/geoip/GeoLite2-City.mmdb", "to": "profile@data.devices.last.geo"}`}},
		New:      func() workflow.Action { return new(GeoIP) },
	})
}

// UserAgent parses user agents.
type UserAgent struct {
	UserAgent workflow.Template `json:"user_agent"`
	To        workflow.Ref      `json:"to"`
}

// Run implements workflow.Action.
func (n *UserAgent) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	s := strings.TrimSpace(x.Render(n.UserAgent))
	if s == "" {
		return nil, fmt.Errorf("there is no user agent")
	}
	a := useragent.Parse(s)
	v := map[string]any{
		"browser": a.Browser, "browser_version": a.BrowserVersion, "os": a.OS,
		"device": a.Device, "bot": a.Bot, "mobile": a.Mobile,
	}
	if !n.To.IsZero() {
		if err := x.Set(n.To, v); err != nil {
			return nil, err
		}
	}
	return workflow.Emit(workflow.DefaultPort, v), nil
}

// GeoIP looks addresses up.
type GeoIP struct {
	Database string            `json:"database"`
	IP       workflow.Template `json:"ip"`
	Language string            `json:"language"`
	To       workflow.Ref      `json:"to"`
}

// Provision implements workflow.Provisioner: the database must open.
func (n *GeoIP) Provision(_ context.Context, _ *workflow.Provision) error {
	if _, err := databases.get(n.Database); err != nil {
		return workflow.FieldErrorf("database", "%v", err)
	}
	return nil
}

type geoRecord struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
		TimeZone  string   `maxminddb:"time_zone"`
	} `maxminddb:"location"`
	Postal struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"postal"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
}

// Run implements workflow.Action.
func (n *GeoIP) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	raw := strings.TrimSpace(x.Render(n.IP))
	if raw == "" {
		return workflow.Emit("not-found", x.Payload()), nil
	}
	ip, err := netip.ParseAddr(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IP address", raw)
	}
	db, err := databases.get(n.Database)
	if err != nil {
		return nil, err
	}
	res := db.Lookup(ip.Unmap())
	if !res.Found() {
		return workflow.Emit("not-found", x.Payload()), nil
	}
	var rec geoRecord
	if err := res.Decode(&rec); err != nil {
		return nil, fmt.Errorf("reading the database: %w", err)
	}
	v := map[string]any{}
	put := func(k, s string) {
		if s != "" {
			v[k] = s
		}
	}
	put("country", rec.Country.ISOCode)
	put("country_name", rec.Country.Names[n.Language])
	put("continent", rec.Continent.Code)
	if len(rec.Subdivisions) > 0 {
		put("region", rec.Subdivisions[0].ISOCode)
	}
	put("city", rec.City.Names[n.Language])
	put("postal", rec.Postal.Code)
	put("time_zone", rec.Location.TimeZone)
	if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
		v["latitude"], v["longitude"] = *rec.Location.Latitude, *rec.Location.Longitude
	}
	if !n.To.IsZero() {
		if err := x.Set(n.To, v); err != nil {
			return nil, err
		}
	}
	return workflow.Emit(workflow.DefaultPort, v), nil
}

// databases shares open databases between flows, by path, and reopens a file that
// changed (checked at most every 10 s; internal/cache's policy: a file that cannot be
// read keeps serving what was open). Readers are memory-mapped and unmapped by the
// garbage collector once no flow uses them, so replacing one never pulls it from under
// a running lookup.
var databases = dbCache{m: cache.NewMap(cache.Config{TTL: 10 * time.Second}, 0, openDatabase)}

type dbCache struct{ m *cache.Map[string, *dbEntry] }

type dbEntry struct {
	r    *maxminddb.Reader
	mod  time.Time
	size int64
}

func (c dbCache) get(path string) (*maxminddb.Reader, error) {
	e, err := c.m.Get(context.Background(), path)
	if err != nil {
		return nil, err
	}
	return e.r, nil
}

// openDatabase opens path unless it is prev's file unchanged.
func openDatabase(_ context.Context, path string, prev *dbEntry, ok bool) (*dbEntry, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open the database: %w", err)
	}
	if ok && st.ModTime().Equal(prev.mod) && st.Size() == prev.size {
		return prev, nil
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open the database: %w", err)
	}
	return &dbEntry{r: r, mod: st.ModTime(), size: st.Size()}, nil
}

var (
	_ workflow.Action      = (*UserAgent)(nil)
	_ workflow.Action      = (*GeoIP)(nil)
	_ workflow.Provisioner = (*GeoIP)(nil)
)
