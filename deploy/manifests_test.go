package deploy_test

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/leadpipe/leadpipe/config"
)

// TestDeployYAMLParses decodes every YAML document under deploy/.
func TestDeployYAMLParses(t *testing.T) {
	n := 0
	err := filepath.WalkDir(repoPath("deploy"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yml" && filepath.Ext(path) != ".yaml") {
			return err
		}
		n += len(yamlDocs(t, path))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no YAML under deploy/")
	}
}

// yamlDocs decodes every document of a YAML file.
func yamlDocs(t *testing.T, path string) []yaml.Node {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, doc)
	}
}

// loadConfig loads leadpipe's config from a file (when path is set) and the given
// environment, as the daemon would.
func loadConfig(t *testing.T, where, path string, env map[string]string) config.Config {
	t.Helper()
	c, err := config.Load(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Errorf("%s: leadpipe would not start: %v", where, err)
	}
	return c
}

// probe is the part of a container probe these tests read.
type probe struct {
	HTTPGet struct{ Path, Port string } `yaml:"httpGet"`
}

// deployment is the part of a Deployment these tests read.
type deployment struct {
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		}
		Template struct {
			Metadata struct{ Labels map[string]string }
			Spec     struct {
				Containers []struct {
					Ports []struct {
						Name string
					}
					LivenessProbe  probe                   `yaml:"livenessProbe"`
					ReadinessProbe probe                   `yaml:"readinessProbe"`
					VolumeMounts   []struct{ Name string } `yaml:"volumeMounts"`
				}
				Volumes []struct {
					Name      string
					ConfigMap *struct{ Name string } `yaml:"configMap"`
					PVC       *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				}
			}
		}
	}
}

// service is the part of a Service these tests read.
type service struct {
	Spec struct {
		Selector map[string]string
		Ports    []struct {
			Name       string
			TargetPort string `yaml:"targetPort"`
		}
	}
}

// TestKubernetesManifests checks that the manifests fit together: kustomization lists them
// all, the Service and the Deployment select the pods, the probes are on /healthz and
// /readyz, every volume names an object of the folder, and the ConfigMap's config file is
// one leadpipe starts with.
func TestKubernetesManifests(t *testing.T) {
	dir := repoPath("deploy", "kubernetes")
	var kust struct{ Resources []string }
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &kust)
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	objects := map[string]yaml.Node{} // by kind/name
	var listed []string
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		listed = append(listed, filepath.Base(f))
		for _, doc := range yamlDocs(t, f) {
			var o struct {
				Kind     string
				Metadata struct{ Name string }
			}
			if err := doc.Decode(&o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			objects[o.Kind+"/"+o.Metadata.Name] = doc
		}
	}
	slices.Sort(listed)
	slices.Sort(kust.Resources)
	if !slices.Equal(listed, kust.Resources) {
		t.Errorf("kustomization.yaml lists %v, the folder holds %v", kust.Resources, listed)
	}
	object := func(kindName string, v any) bool {
		doc, ok := objects[kindName]
		if ok {
			if err := doc.Decode(v); err != nil {
				t.Fatalf("%s: %v", kindName, err)
			}
		}
		return ok
	}

	var dep deployment
	var svc service
	var cm struct{ Data map[string]string }
	for kindName, v := range map[string]any{"Deployment/leadpipe": &dep, "Service/leadpipe": &svc, "ConfigMap/leadpipe-config": &cm} {
		if !object(kindName, v) {
			t.Fatalf("no %s in %s", kindName, dir)
		}
	}
	pod := dep.Spec.Template
	if len(dep.Spec.Selector.MatchLabels) == 0 || !subset(dep.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Errorf("Deployment selector %v does not select its pods %v", dep.Spec.Selector.MatchLabels, pod.Metadata.Labels)
	}
	if len(svc.Spec.Selector) == 0 || !subset(svc.Spec.Selector, pod.Metadata.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, pod.Metadata.Labels)
	}
	volumes := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = true
		var ref string
		switch {
		case v.ConfigMap != nil:
			ref = "ConfigMap/" + v.ConfigMap.Name
		case v.PVC != nil:
			ref = "PersistentVolumeClaim/" + v.PVC.ClaimName
		}
		if _, ok := objects[ref]; ref != "" && !ok {
			t.Errorf("volume %s: no %s in %s", v.Name, ref, dir)
		}
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want leadpipe alone", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[p.Name] = true
	}
	for _, p := range svc.Spec.Ports {
		if !ports[p.TargetPort] {
			t.Errorf("Service port %s targets %q, which the container does not name", p.Name, p.TargetPort)
		}
	}
	if got := c.LivenessProbe.HTTPGet.Path; got != "/healthz" {
		t.Errorf("liveness probe on %q, want /healthz", got)
	}
	if got := c.ReadinessProbe.HTTPGet.Path; got != "/readyz" {
		t.Errorf("readiness probe on %q, want /readyz", got)
	}
	for _, m := range c.VolumeMounts {
		if !volumes[m.Name] {
			t.Errorf("volume mount %s: no such volume", m.Name)
		}
	}

	cfgFile := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(cm.Data["config.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg := loadConfig(t, "ConfigMap leadpipe-config", cfgFile, nil); !strings.HasPrefix(cfg.HTTPAddr, "0.0.0.0:") {
		t.Errorf("ConfigMap http_addr %q: the probes and the Service need every interface (0.0.0.0:PORT)", cfg.HTTPAddr)
	}

	// kubectl renders the kustomization offline, with no cluster. It is optional tooling,
	// not a service, so its absence only skips this step.
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		if out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput(); err != nil {
			t.Errorf("kubectl kustomize: %v\n%s", err, out)
		}
	} else {
		t.Log("kubectl not found: kustomization not rendered")
	}
}

// subset reports whether every label of a is in b.
func subset(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSystemdUnit verifies the unit with systemd-analyze (its ExecStart pointed at an existing
// program, which verify requires), checks its hardening, and loads the settings it gives
// leadpipe (its Environment= lines, then the example environment file).
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(repoPath("deploy", "systemd", "leadpipe.service"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	directives := map[string]bool{}
	for line := range strings.Lines(string(unit)) {
		line = strings.TrimSpace(line)
		directives[line] = true
		if kv, ok := strings.CutPrefix(line, "Environment="); ok {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	for _, want := range []string{"ProtectSystem=strict", "NoNewPrivileges=yes", "ProtectHome=yes", "PrivateTmp=yes",
		"CapabilityBoundingSet=", "EnvironmentFile=/etc/leadpipe/leadpipe.env", "ExecStart=/usr/local/bin/leadpipe serve",
		"SystemCallFilter=setrlimit prlimit64"} { // after ~@resources: the sheet parser sets its limits
		if !directives[want] {
			t.Errorf("leadpipe.service has no %s", want)
		}
	}
	f, err := os.Open(repoPath("deploy", "systemd", "leadpipe.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "LEADPIPE_") {
			t.Errorf("leadpipe.env: %q is not LEADPIPE_NAME=value", line)
		}
		env[k] = v
	}
	loadConfig(t, "leadpipe.service with leadpipe.env", "", env)

	analyze := tool(t, "systemd-analyze", "the systemd package")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	verify := filepath.Join(t.TempDir(), "leadpipe.service")
	if err := os.WriteFile(verify, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/leadpipe", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", verify).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestComposeFile checks that the compose file runs every component, gives leadpipe settings
// it starts with, mounts files that exist, and provisions Grafana with the datasources the
// dashboards use.
func TestComposeFile(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Image       string
			Environment map[string]string
			Volumes     []string
		}
	}
	readYAML(t, repoPath("deploy", "compose.yaml"), &compose)
	for _, s := range []string{"postgres", "clickhouse", "kafka", "leadpipe", "prometheus", "grafana"} {
		if _, ok := compose.Services[s]; !ok {
			t.Errorf("compose.yaml has no %s service", s)
		}
	}
	lp := compose.Services["leadpipe"]
	cfg := loadConfig(t, "compose.yaml leadpipe", "", lp.Environment)
	if cfg.KafkaBrokers == "" || cfg.ClickHouseAddr == "" {
		t.Errorf("compose.yaml: leadpipe does not use the compose Kafka (%q) and ClickHouse (%q)", cfg.KafkaBrokers, cfg.ClickHouseAddr)
	}
	for name, s := range compose.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, ".") || strings.HasPrefix(src, "./.data") {
				continue // a named volume, or a folder compose makes at start
			}
			if _, err := os.Stat(repoPath("deploy", src)); err != nil {
				t.Errorf("compose.yaml %s mounts %s: %v", name, src, err)
			}
		}
	}

	var ds struct {
		Datasources []struct{ Type string }
	}
	readYAML(t, repoPath("deploy", "grafana", "provisioning", "datasources", "leadpipe.yaml"), &ds)
	var types []string
	for _, d := range ds.Datasources {
		types = append(types, d.Type)
	}
	for _, want := range []string{promType, clickhouseType} {
		if !slices.Contains(types, want) {
			t.Errorf("Grafana provisioning has no %s datasource (has %v)", want, types)
		}
	}
	var prom struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, repoPath("deploy", "prometheus", "prometheus.yml"), &prom)
	_, port, _ := strings.Cut(cfg.HTTPAddr, ":")
	if len(prom.ScrapeConfigs) == 0 || len(prom.ScrapeConfigs[0].StaticConfigs) == 0 ||
		!slices.Contains(prom.ScrapeConfigs[0].StaticConfigs[0].Targets, "leadpipe:"+port) {
		t.Errorf("prometheus.yml does not scrape leadpipe:%s, where compose serves it", port)
	}
}
