package chartcheck

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

const (
	chartDir       = "../helm/thamesthrive"
	productionFile = "../helm/values-production.yaml"
	namespace      = "cdp"
)

// The guide's replica: 0.5 CPU and 150 MB.
var (
	guideCPU    = resource.MustParse("500m")
	guideMemory = resource.MustParse("150Mi")
)

// rendered is one chart rendering, decoded strictly into the Kubernetes API types.
type rendered struct {
	deployments     map[string]*appsv1.Deployment // by component label
	services        map[string]*corev1.Service
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	pdbs            map[string]*policyv1.PodDisruptionBudget
	ingresses       []*networkingv1.Ingress
	networkPolicies []*networkingv1.NetworkPolicy
	jobs            []*batchv1.Job
	secrets         []*corev1.Secret
	serviceMonitors []*serviceMonitor
}

// serviceMonitor is the part of the Prometheus Operator's type the chart uses; decoded
// strictly too, so a misspelt field fails.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port      string `json:"port"`
			Path      string `json:"path"`
			Interval  string `json:"interval"`
			Scheme    string `json:"scheme"`
			TLSConfig *struct {
				InsecureSkipVerify bool `json:"insecureSkipVerify"`
			} `json:"tlsConfig"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return c
}

func valuesFile(t *testing.T, path string) map[string]any {
	t.Helper()
	if path == "" {
		return map[string]any{}
	}
	v, err := chartutil.ReadValuesFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return v
}

// render is `helm template` (install, with hooks) through Helm's own packages.
func render(t *testing.T, c *chart.Chart, vals map[string]any) (map[string]string, error) {
	t.Helper()
	rv, err := chartutil.ToRenderValues(c, vals, chartutil.ReleaseOptions{Name: "tt", Namespace: namespace,
		Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	return engine.Render(c, rv)
}

// strict decodes one YAML document into out; unknown fields are an error.
func strict(doc []byte, out any) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

func decodeAll(t *testing.T, files map[string]string) *rendered {
	t.Helper()
	r := &rendered{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") || strings.HasSuffix(name, ".tpl") {
			continue
		}
		for i, doc := range strings.Split(files[name], "\n---") {
			if strings.TrimSpace(doc) == "" || strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s #%d: not YAML: %v\n%s", name, i, err, doc)
			}
			var obj any
			switch head.APIVersion + " " + head.Kind {
			case "apps/v1 Deployment":
				obj = &appsv1.Deployment{}
			case "v1 Service":
				obj = &corev1.Service{}
			case "v1 Secret":
				obj = &corev1.Secret{}
			case "autoscaling/v2 HorizontalPodAutoscaler":
				obj = &autoscalingv2.HorizontalPodAutoscaler{}
			case "policy/v1 PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "networking.k8s.io/v1 Ingress":
				obj = &networkingv1.Ingress{}
			case "networking.k8s.io/v1 NetworkPolicy":
				obj = &networkingv1.NetworkPolicy{}
			case "batch/v1 Job":
				obj = &batchv1.Job{}
			case "monitoring.coreos.com/v1 ServiceMonitor":
				obj = &serviceMonitor{}
			default:
				t.Fatalf("%s #%d: unexpected object %s %s", name, i, head.APIVersion, head.Kind)
			}
			if err := strict([]byte(doc), obj); err != nil {
				t.Fatalf("%s #%d (%s): does not decode strictly into the Kubernetes type: %v\n%s", name, i, head.Kind, err, doc)
			}
			switch o := obj.(type) {
			case *appsv1.Deployment:
				r.deployments[component(t, o.Labels)] = o
			case *corev1.Service:
				r.services[component(t, o.Labels)] = o
			case *corev1.Secret:
				r.secrets = append(r.secrets, o)
			case *autoscalingv2.HorizontalPodAutoscaler:
				r.hpas = append(r.hpas, o)
			case *policyv1.PodDisruptionBudget:
				r.pdbs[component(t, o.Labels)] = o
			case *networkingv1.Ingress:
				r.ingresses = append(r.ingresses, o)
			case *networkingv1.NetworkPolicy:
				r.networkPolicies = append(r.networkPolicies, o)
			case *batchv1.Job:
				r.jobs = append(r.jobs, o)
			case *serviceMonitor:
				r.serviceMonitors = append(r.serviceMonitors, o)
			}
		}
	}
	return r
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func component(t *testing.T, labels map[string]string) string {
	t.Helper()
	c := labels["app.kubernetes.io/component"]
	if c == "" {
		t.Fatalf("object without app.kubernetes.io/component label: %v", labels)
	}
	return c
}

// env returns the container's variables: literal values, or "secret:KEY" for a
// reference to a Secret.
func env(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			out[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Key
		default:
			out[e.Name] = e.Value
		}
	}
	return out
}

func TestChartLint(t *testing.T) {
	for _, vf := range []string{"", productionFile} {
		name := "default"
		if vf != "" {
			name = filepath.Base(vf)
		}
		t.Run(name, func(t *testing.T) {
			res := lint.All(chartDir, valuesFile(t, vf), namespace, false)
			for _, m := range res.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				} else {
					t.Logf("helm lint: %s", m)
				}
			}
		})
	}
}

func TestChartPolicy(t *testing.T) {
	c := loadChart(t)
	known := knownVariables(t)
	for _, tc := range []struct {
		name, values string
		podTLS       bool
	}{
		{"default values", "", false},
		{"production values", productionFile, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := valuesFile(t, tc.values)
			files, err := render(t, c, vals)
			if err != nil {
				t.Fatalf("rendering: %v", err)
			}
			r := decodeAll(t, files)
			checkTopology(t, r, vals, tc.podTLS)
			for comp, d := range r.deployments {
				checkPod(t, comp, d.Spec.Template.Spec, known)
			}
			for _, j := range r.jobs {
				checkPod(t, "migrate", j.Spec.Template.Spec, known)
			}
		})
	}
}

func checkTopology(t *testing.T, r *rendered, vals map[string]any, podTLS bool) {
	t.Helper()
	for _, comp := range []string{"collector", "gui", "worker"} {
		if r.deployments[comp] == nil {
			t.Fatalf("no %s Deployment (have %v)", comp, keys(r.deployments))
		}
	}
	col := r.deployments["collector"].Spec.Template.Spec.Containers[0]
	gui := r.deployments["gui"].Spec.Template.Spec.Containers[0]
	wrk := r.deployments["worker"].Spec.Template.Spec.Containers[0]
	ce, ge, we := env(col), env(gui), env(wrk)

	// The collector cluster: no GUI API; the GUI cluster: GUI API from trusted networks.
	if ce["EXPOSE_GUI_API"] != "no" {
		t.Errorf("collector EXPOSE_GUI_API = %q, want no", ce["EXPOSE_GUI_API"])
	}
	if ge["EXPOSE_GUI_API"] != "yes" {
		t.Errorf("gui EXPOSE_GUI_API = %q, want yes", ge["EXPOSE_GUI_API"])
	}
	for comp, e := range map[string]map[string]string{"collector": ce, "gui": ge} {
		if e["RUN_WORKERS"] != "no" {
			t.Errorf("%s RUN_WORKERS = %q, want no (the worker Deployment does the background work)", comp, e["RUN_WORKERS"])
		}
		if !slices.Equal(col.Args, []string{"serve"}) {
			t.Errorf("%s args %v, want [serve]", comp, col.Args)
		}
	}
	if !slices.Equal(gui.Args, []string{"serve"}) || !slices.Equal(wrk.Args, []string{"worker"}) {
		t.Errorf("gui args %v, worker args %v; want [serve], [worker]", gui.Args, wrk.Args)
	}
	if _, ok := we["EXPOSE_GUI_API"]; ok {
		t.Errorf("worker sets EXPOSE_GUI_API")
	}
	if ce["INSTALLATION_TOKEN"] != "" {
		t.Errorf("the public collector gets INSTALLATION_TOKEN")
	}
	for _, e := range []map[string]string{ce, ge, we} {
		if e["SECRETS_KEY"] != "secret:SECRETS_KEY" || e["ELASTIC_HOST"] == "" || e["REDIS_HOST"] == "" {
			t.Errorf("a pod without SECRETS_KEY from the Secret, ELASTIC_HOST or REDIS_HOST: %v", e)
		}
		for k, v := range e {
			if (strings.Contains(k, "PASSWORD") || strings.Contains(k, "KEY") || k == "INSTALLATION_TOKEN") && !strings.HasSuffix(k, "_FILE") && k != "MERGE_KEYS" {
				if !strings.HasPrefix(v, "secret:") {
					t.Errorf("%s is a literal value, not a Secret reference", k)
				}
			}
		}
		if podTLS != (e["TLS_CERT_FILE"] != "" && e["TLS_KEY_FILE"] != "") {
			t.Errorf("TLS_CERT_FILE/TLS_KEY_FILE = %q/%q with podTLS %v", e["TLS_CERT_FILE"], e["TLS_KEY_FILE"], podTLS)
		}
	}

	// Trusted networks: the NetworkPolicy admits exactly TRUSTED_NETWORKS, to the GUI pods.
	trusted := strings.Split(ge["TRUSTED_NETWORKS"], ",")
	if len(trusted) == 0 || trusted[0] == "" {
		t.Fatal("gui without TRUSTED_NETWORKS")
	}
	if len(r.networkPolicies) != 1 {
		t.Fatalf("%d NetworkPolicies, want 1 (the GUI's)", len(r.networkPolicies))
	}
	np := r.networkPolicies[0]
	if !matches(np.Spec.PodSelector.MatchLabels, r.deployments["gui"].Spec.Template.Labels) || np.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"] != "gui" {
		t.Errorf("NetworkPolicy selects %v, not the GUI pods", np.Spec.PodSelector.MatchLabels)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("NetworkPolicy types %v", np.Spec.PolicyTypes)
	}
	var admitted []string
	for _, rule := range np.Spec.Ingress {
		if len(rule.From) == 0 {
			t.Errorf("a NetworkPolicy rule admits every source")
		}
		for _, peer := range rule.From {
			if peer.IPBlock == nil || peer.PodSelector != nil || peer.NamespaceSelector != nil || len(peer.IPBlock.Except) > 0 {
				t.Errorf("NetworkPolicy peer %+v is not a plain trusted CIDR", peer)
				continue
			}
			admitted = append(admitted, peer.IPBlock.CIDR)
		}
	}
	if !sameSet(admitted, trusted) {
		t.Errorf("NetworkPolicy admits %v, TRUSTED_NETWORKS is %v", admitted, trusted)
	}
	if s := r.services["gui"]; s == nil || (s.Spec.Type != "" && s.Spec.Type != corev1.ServiceTypeClusterIP) {
		t.Errorf("the GUI Service is not ClusterIP: %+v", s)
	}

	// The only way in from outside: an Ingress to the collector, with TLS, no GUI paths.
	if len(r.ingresses) != 1 {
		t.Fatalf("%d Ingresses, want 1", len(r.ingresses))
	}
	ing := r.ingresses[0]
	if len(ing.Spec.TLS) == 0 || ing.Spec.TLS[0].SecretName == "" {
		t.Errorf("the Ingress has no TLS")
	}
	colSvc := r.services["collector"]
	for _, rule := range ing.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			if p.Path == "/" || p.Path == "" || strings.HasPrefix(p.Path, "/api") || strings.HasPrefix(p.Path, "/gui") {
				t.Errorf("Ingress path %q reaches the GUI API or GUI", p.Path)
			}
			if p.PathType == nil || *p.PathType == networkingv1.PathTypeImplementationSpecific {
				t.Errorf("Ingress path %q without an exact or prefix type", p.Path)
			}
			if p.Backend.Service == nil || colSvc == nil || p.Backend.Service.Name != colSvc.Name {
				t.Errorf("Ingress path %q goes to %+v, not the collector Service", p.Path, p.Backend.Service)
			}
		}
	}
	if !slices.ContainsFunc(ing.Spec.Rules[0].HTTP.Paths, func(p networkingv1.HTTPIngressPath) bool { return p.Path == "/track" }) {
		t.Errorf("the Ingress does not route /track")
	}

	// Autoscaling and disruption budget of the collector.
	if len(r.hpas) != 1 || r.hpas[0].Spec.ScaleTargetRef.Name != r.deployments["collector"].Name ||
		len(r.hpas[0].Spec.Metrics) != 1 || r.hpas[0].Spec.Metrics[0].Resource == nil || r.hpas[0].Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Errorf("no CPU HorizontalPodAutoscaler on the collector: %+v", r.hpas)
	} else if r.hpas[0].Spec.MinReplicas == nil || *r.hpas[0].Spec.MinReplicas < 3 {
		t.Errorf("collector HPA minReplicas %v, want at least the guide's 3", r.hpas[0].Spec.MinReplicas)
	}
	if pdb := r.pdbs["collector"]; pdb == nil || !matches(pdb.Spec.Selector.MatchLabels, r.deployments["collector"].Spec.Template.Labels) {
		t.Errorf("no PodDisruptionBudget on the collector")
	}

	// migrate runs before install and upgrade, after the Secret it reads exists.
	if len(r.jobs) != 1 {
		t.Fatalf("%d Jobs, want the migrate hook", len(r.jobs))
	}
	job := r.jobs[0]
	if job.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
		t.Errorf("migrate Job hook %q", job.Annotations["helm.sh/hook"])
	}
	if args := job.Spec.Template.Spec.Containers[0].Args; !slices.Equal(args, []string{"migrate"}) {
		t.Errorf("migrate Job runs %v", args)
	}
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever && job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("migrate Job restart policy %q", job.Spec.Template.Spec.RestartPolicy)
	}
	for _, s := range r.secrets {
		if s.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" || s.Annotations["helm.sh/hook-weight"] >= job.Annotations["helm.sh/hook-weight"] && s.Annotations["helm.sh/hook-weight"] != "-10" {
			t.Errorf("Secret %s is not created before the migrate hook: %v", s.Name, s.Annotations)
		}
		for _, k := range []string{"SECRETS_KEY", "INSTALLATION_TOKEN"} {
			if len(s.Data[k]) == 0 {
				t.Errorf("generated Secret lacks %s", k)
			}
		}
	}
	if existing, _ := dig(vals, "secrets", "existingSecret").(string); existing != "" && len(r.secrets) > 0 {
		t.Errorf("a Secret is rendered although secrets.existingSecret is set")
	} else if existing == "" && len(r.secrets) != 1 {
		t.Errorf("%d Secrets rendered, want 1", len(r.secrets))
	}

	sm, _ := dig(vals, "serviceMonitor", "enabled").(bool)
	if sm != (len(r.serviceMonitors) == 2) {
		t.Errorf("serviceMonitor.enabled %v, %d ServiceMonitors", sm, len(r.serviceMonitors))
	}
	for _, m := range r.serviceMonitors {
		if len(m.Spec.Endpoints) != 1 || m.Spec.Endpoints[0].Path != "/metrics" || m.Spec.Endpoints[0].Port != "http" {
			t.Errorf("ServiceMonitor %s: %+v", m.Metadata.Name, m.Spec.Endpoints)
		}
	}
}

// checkPod asserts what every ThamesThrive pod must be: non-root, read-only root,
// no privilege escalation, no capabilities, limits, probes on serving containers, and
// only variables the product knows.
func checkPod(t *testing.T, comp string, spec corev1.PodSpec, known map[string]bool) {
	t.Helper()
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: the service account token is mounted (the pods never call the Kubernetes API)", comp)
	}
	if psc := spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", comp)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers", comp, len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatalf("%s: no container securityContext", comp)
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0:
		t.Errorf("%s: not non-root: %+v", comp, sc)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: root filesystem is writable", comp)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: privilege escalation allowed", comp)
	case sc.Privileged != nil && *sc.Privileged:
		t.Errorf("%s: privileged", comp)
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s: capabilities %+v, want drop [ALL] and add none", comp, sc.Capabilities)
	}
	lim, req := c.Resources.Limits, c.Resources.Requests
	if lim.Cpu().IsZero() || lim.Memory().IsZero() || req.Cpu().IsZero() || req.Memory().IsZero() {
		t.Errorf("%s: requests %v / limits %v incomplete", comp, req, lim)
	}
	if comp != "migrate" {
		if lim.Cpu().Cmp(guideCPU) != 0 || lim.Memory().Cmp(guideMemory) != 0 {
			t.Errorf("%s: limits %s CPU / %s, want the guide's 500m / 150Mi by default", comp, lim.Cpu(), lim.Memory())
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: readiness probe is not GET /readyz", comp)
		}
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: liveness probe is not GET /healthz", comp)
		}
		https := env(c)["TLS_CERT_FILE"] != ""
		for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
			if p != nil && p.HTTPGet != nil && (p.HTTPGet.Scheme == corev1.URISchemeHTTPS) != https {
				t.Errorf("%s: probe scheme %q with TLS_CERT_FILE %v", comp, p.HTTPGet.Scheme, https)
			}
		}
		// serve listens on HTTP_ADDR (:8686), `thamesthrive worker` on WORKER_HTTP_ADDR (:8687).
		port := int32(8686)
		if comp == "worker" {
			port = 8687
		}
		if len(c.Ports) != 1 || c.Ports[0].ContainerPort != port || c.Ports[0].Name != "http" {
			t.Errorf("%s: ports %+v, want http %d", comp, c.Ports, port)
		}
	}
	mounts := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = true
	}
	if !mounts["/tmp"] {
		t.Errorf("%s: no writable /tmp on the read-only root", comp)
	}
	for name := range env(c) {
		if !known[name] {
			t.Errorf("%s sets %s, which the product's configuration does not know (docs/configuration.md)", comp, name)
		}
	}
}

func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	for i := range b {
		b[i] = strings.TrimSpace(b[i])
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// TestChartRefusesUnsafeValues: values that would break the policy stop the rendering.
func TestChartRefusesUnsafeValues(t *testing.T) {
	c := loadChart(t)
	for _, tc := range []struct {
		name string
		vals string
		want string
	}{
		{"ingress to the GUI API", `ingress: {paths: [/track, /api/v1/]}`, "ingress.paths"},
		{"ingress to the GUI", `ingress: {paths: [/gui/]}`, "ingress.paths"},
		{"catch-all ingress", `ingress: {paths: [/]}`, "ingress.paths"},
		{"no trusted networks", `gui: {trustedNetworks: []}`, "gui.trustedNetworks"},
		{"no search cluster", `elasticsearch: {hosts: ""}`, "elasticsearch.hosts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var vals map[string]any
			if err := yaml.Unmarshal([]byte(tc.vals), &vals); err != nil {
				t.Fatal(err)
			}
			_, err := render(t, c, vals)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("rendering with %s: err %v, want one naming %s", tc.vals, err, tc.want)
			}
		})
	}
}
