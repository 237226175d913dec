package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8686" || !c.ExposeGUIAPI || c.DataDir != "./data" || c.TrackMaxBodyBytes != 1<<20 || c.LogLevel != slog.LevelInfo {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"HTTP_ADDR": "127.0.0.1:9000", "EXPOSE_GUI_API": "no", "DATA_DIR": "/tmp/x",
		"TRACK_MAX_BODY_BYTES": "64KiB", "LOGGING_LEVEL": "WARNING", "TRUSTED_NETWORKS": "10.0.0.0/8, ::1",
		"TOKEN_TTL": "30m", "ELASTIC_HOST": "http://a:9200,http://b:9200",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9000" || c.ExposeGUIAPI || c.DataDir != "/tmp/x" || c.TrackMaxBodyBytes != 64<<10 ||
		c.LogLevel != slog.LevelWarn || len(c.TrustedNetworks) != 2 || c.TokenTTL != 30*time.Minute || len(c.ElasticHosts) != 2 {
		t.Fatalf("unexpected config: %+v", c)
	}
}

func TestSQLiteSync(t *testing.T) {
	for value, want := range map[string]string{"": "full", "full": "full", "normal": "normal"} {
		c, err := Load(env(map[string]string{"SQLITE_SYNC": value}))
		if err != nil || c.SQLiteSync != want {
			t.Errorf("SQLITE_SYNC=%q: %q, %v; want %q", value, c.SQLiteSync, err, want)
		}
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	for name, value := range map[string]string{
		"HTTP_ADDR": "nonsense", "EXPOSE_GUI_API": "maybe", "TRACK_MAX_BODY_BYTES": "lots",
		"LOGGING_LEVEL": "loud", "TRUSTED_NETWORKS": "10.0.0.0/99", "TRACK_MAX_EVENTS": "0",
		"TOKEN_TTL": "forever", "INSTALLATION_TOKEN": "short", "REDIS_PORT": "70000",
		"SQLITE_SYNC": "off", "MERGE_KEYS": "data.Email",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(map[string]string{name: value}))
			if err == nil || !strings.HasPrefix(err.Error(), name) {
				t.Fatalf("Load(%s=%q) error = %v, want one naming %s", name, value, err, name)
			}
		})
	}
}
