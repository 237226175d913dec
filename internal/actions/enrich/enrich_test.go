package enrich_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/enrich"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow/workflowtest"
)

// writeDB builds a small City database: 81.2.69.0/24 is in London, 2a02:2770::/32 in
// Germany (country only).
func writeDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	_, london, _ := net.ParseCIDR("81.2.69.0/24")
	if err := tree.Insert(london, mmdbtype.Map{
		"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("London")}},
		"continent":    mmdbtype.Map{"code": mmdbtype.String("EU")},
		"country":      mmdbtype.Map{"iso_code": mmdbtype.String("GB"), "names": mmdbtype.Map{"en": mmdbtype.String("United Kingdom"), "de": mmdbtype.String("Vereinigtes Königreich")}},
		"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(51.5142), "longitude": mmdbtype.Float64(-0.0931), "time_zone": mmdbtype.String("Europe/London")},
		"postal":       mmdbtype.Map{"code": mmdbtype.String("EC2V")},
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("ENG")}},
	}); err != nil {
		t.Fatal(err)
	}
	_, de, _ := net.ParseCIDR("2a02:2770::/32")
	if err := tree.Insert(de, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("DE")}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNodes(t *testing.T) {
	db := writeDB(t)
	cfg := func(extra string) string { return `{"database": "` + db + `"` + extra + `}` }
	chrome := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	sess := &domain.Session{ID: "s1", Context: map[string]any{"user_agent": chrome}, Properties: map[string]any{}}
	workflowtest.Run(t, workflowtest.Env{}, []workflowtest.Case{
		{Name: "session user agent", Node: "user-agent", Session: sess,
			Output: map[string]any{"browser": "Chrome", "browser_version": "120.0.0.0", "os": "Windows", "device": "desktop", "bot": false, "mobile": false}},
		{Name: "bot to profile", Node: "user-agent", Config: `{"user_agent": "{{event@properties.ua}}", "to": "profile@data.devices.last.agent"}`,
			Properties: map[string]any{"ua": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
			Check: func(t *testing.T, r *workflowtest.Result) {
				if v, _ := domain.GetPath(r.Profile.Data, "devices.last.agent.bot"); v != true {
					t.Fatalf("data = %v", r.Profile.Data)
				}
			}},
		{Name: "no user agent", Node: "user-agent", Err: "there is no user agent"},

		{Name: "city", Node: "geo-ip", Config: cfg(`, "ip": "{{event@properties.ip}}", "to": "profile@data.devices.last.geo"`),
			Properties: map[string]any{"ip": "81.2.69.160"},
			Output: map[string]any{"country": "GB", "country_name": "United Kingdom", "continent": "EU", "region": "ENG", "city": "London",
				"postal": "EC2V", "time_zone": "Europe/London", "latitude": 51.5142, "longitude": -0.0931},
			Check: func(t *testing.T, r *workflowtest.Result) {
				if v, _ := domain.GetPath(r.Profile.Data, "devices.last.geo.city"); v != "London" {
					t.Fatalf("data = %v", r.Profile.Data)
				}
			}},
		{Name: "language and IPv4-mapped", Node: "geo-ip", Config: cfg(`, "ip": "::ffff:81.2.69.1", "language": "de"`),
			Check: func(t *testing.T, r *workflowtest.Result) {
				if m := r.Output.(map[string]any); m["country_name"] != "Vereinigtes Königreich" {
					t.Fatalf("output = %v", m)
				}
			}},
		{Name: "IPv6 country only", Node: "geo-ip", Config: cfg(`, "ip": "2a02:2770::1"`), Output: map[string]any{"country": "DE"}},
		{Name: "unknown address", Node: "geo-ip", Config: cfg(`, "ip": "8.8.8.8"`), Port: "not-found"},
		{Name: "session ip in a template", Node: "geo-ip", Config: cfg(`, "ip": "{{session@device.ip}}"`),
			Session: &domain.Session{ID: "s", Device: domain.Device{IP: "81.2.69.5"}}, Check: func(t *testing.T, r *workflowtest.Result) {
				if r.Output.(map[string]any)["city"] != "London" {
					t.Fatalf("output = %v", r.Output)
				}
			}},
		{Name: "no address", Node: "geo-ip", Config: cfg(``), Port: "not-found"},
		{Name: "not an address", Node: "geo-ip", Config: cfg(`, "ip": "nope"`), Err: "not an IP address"},
		{Name: "missing file", Node: "geo-ip", Config: `{"database": "/nonexistent/city.mmdb"}`, ConfigErr: "config.database: cannot open the database"},
	})
}
