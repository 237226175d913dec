package chartcheck

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

const composeFile = "../compose.yaml"

// loadCompose parses compose.yaml with the Compose Specification's own loader: the
// file is validated against the specification's JSON schema (an unknown or misspelt
// field fails), interpolated with env and normalised, as `docker compose` does.
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	abs, err := filepath.Abs(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs, Content: b}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("thamesthrive", true) })
}

var composeEnv = map[string]string{
	"SECRETS_KEY":        strings.Repeat("ab", 32),
	"INSTALLATION_TOKEN": "compose-test-token",
	"REDIS_PASSWORD":     "compose-test-redis",
}

func TestComposeRequiresSecrets(t *testing.T) {
	for _, missing := range []string{"SECRETS_KEY", "INSTALLATION_TOKEN", "REDIS_PASSWORD"} {
		env := map[string]string{}
		for k, v := range composeEnv {
			if k != missing {
				env[k] = v
			}
		}
		if _, err := loadCompose(t, env); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: err %v, want one naming it", missing, err)
		}
	}
}

func TestComposePolicy(t *testing.T) {
	known := knownVariables(t)
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatalf("compose.yaml does not load under the Compose Specification: %v", err)
	}
	ours := map[string]types.ServiceConfig{} // services running the ThamesThrive image
	for name, s := range p.Services {
		if strings.Contains(s.Image, "thamesthrive") {
			ours[name] = s
		}
	}
	want := []string{"collector-1", "collector-2", "gui", "migrate", "worker"}
	if got := keys(ours); !slices.Equal(got, want) {
		t.Fatalf("ThamesThrive services %v, want %v", got, want)
	}
	for _, dep := range []string{"opensearch", "redis", "proxy"} {
		if _, ok := p.Services[dep]; !ok {
			t.Errorf("no %s service", dep)
		}
	}
	env := func(s types.ServiceConfig) map[string]string {
		out := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				out[k] = *v
			} else {
				out[k] = ""
			}
		}
		return out
	}
	for name, s := range ours {
		e := env(s)
		for k := range e {
			if !known[k] {
				t.Errorf("%s sets %s, which the product's configuration does not know (docs/configuration.md)", name, k)
			}
		}
		if e["ELASTIC_HOST"] == "" {
			t.Errorf("%s has no ELASTIC_HOST", name)
		}
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: read_only %v, cap_drop %v, security_opt %v", name, s.ReadOnly, s.CapDrop, s.SecurityOpt)
		}
		if name == "migrate" {
			if !slices.Equal([]string(s.Command), []string{"migrate"}) {
				t.Errorf("migrate runs %v", s.Command)
			}
			if d, ok := s.DependsOn["opensearch"]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("migrate does not wait for a healthy OpenSearch: %+v", s.DependsOn)
			}
			continue
		}
		if d, ok := s.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s does not wait for migrate to succeed: %+v", name, s.DependsOn)
		}
		if e["SECRETS_KEY"] == "" || e["REDIS_HOST"] == "" || e["REDIS_PASSWORD"] == "" {
			t.Errorf("%s lacks SECRETS_KEY, REDIS_HOST or REDIS_PASSWORD", name)
		}
		if s.Deploy == nil || s.Deploy.Resources.Limits == nil ||
			s.Deploy.Resources.Limits.NanoCPUs != 0.5 || s.Deploy.Resources.Limits.MemoryBytes != 150*1024*1024 {
			t.Errorf("%s: limits are not the guide's 0.5 CPU / 150 MB: %+v", name, s.Deploy)
		}
		switch {
		case strings.HasPrefix(name, "collector"):
			if e["EXPOSE_GUI_API"] != "no" || e["RUN_WORKERS"] != "no" || !slices.Equal([]string(s.Command), []string{"serve"}) {
				t.Errorf("%s: EXPOSE_GUI_API %q RUN_WORKERS %q command %v", name, e["EXPOSE_GUI_API"], e["RUN_WORKERS"], s.Command)
			}
			if len(s.Ports) > 0 {
				t.Errorf("%s publishes ports %v: the proxy is the only public entry", name, s.Ports)
			}
			if e["INSTALLATION_TOKEN"] != "" {
				t.Errorf("%s gets INSTALLATION_TOKEN", name)
			}
		case name == "gui":
			if e["EXPOSE_GUI_API"] != "yes" || e["RUN_WORKERS"] != "no" || e["TRUSTED_NETWORKS"] == "" || e["INSTALLATION_TOKEN"] == "" {
				t.Errorf("gui: EXPOSE_GUI_API %q RUN_WORKERS %q TRUSTED_NETWORKS %q", e["EXPOSE_GUI_API"], e["RUN_WORKERS"], e["TRUSTED_NETWORKS"])
			}
			for _, port := range s.Ports {
				if port.HostIP != "127.0.0.1" {
					t.Errorf("gui published on %q:%s, want 127.0.0.1 only", port.HostIP, port.Published)
				}
			}
		case name == "worker":
			if !slices.Equal([]string(s.Command), []string{"worker"}) {
				t.Errorf("worker runs %v", s.Command)
			}
			if len(s.Ports) > 0 {
				t.Errorf("worker publishes ports")
			}
		}
	}
	// The public entry balances over both collectors and nothing else.
	proxy := p.Services["proxy"]
	cmd := strings.Join(proxy.Command, " ")
	for _, c := range []string{"--to collector-1:8686", "--to collector-2:8686"} {
		if !strings.Contains(cmd, c) {
			t.Errorf("proxy command %q lacks %q", cmd, c)
		}
	}
	if strings.Contains(cmd, "gui") {
		t.Errorf("the public proxy reaches the GUI: %q", cmd)
	}
}
