package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/pgstore/pgtest"
)

// The examples in examples/distributed, each run as far as this machine
// allows: the Kubernetes manifests are parsed and checked (and rendered by
// kubectl kustomize when kubectl is here), and their study is run by four
// workers sharing a PostgreSQL store as the Job's pods would; the Slurm
// script runs as four array tasks; the torchrun study runs when PyTorch's
// torchrun is installed, and its files are checked when it is not.

const distributed = "../../examples/distributed"

// k8sObject is the part of a Kubernetes object the test reads.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string
	Metadata   struct{ Name string }
	Data       map[string]string
	Spec       struct {
		Parallelism *int
		Completions *int
		Ports       []struct{ Port int }
		Template    struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Image string
					Args  []string
					Env   []struct {
						Name  string
						Value string
					}
				}
				Volumes []struct {
					Name      string
					ConfigMap *struct{ Name string } `yaml:"configMap"`
				}
			}
		}
	}
}

func readManifests(t *testing.T, files ...string) map[string]k8sObject {
	t.Helper()
	objs := map[string]k8sObject{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(distributed, "kubernetes", f))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var o k8sObject
			if err := dec.Decode(&o); err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Fatalf("%s: %v", f, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: an object without apiVersion, kind or name: %+v", f, o)
			}
			objs[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	return objs
}

// nonComment returns the lines of a TOML text that are not comments or
// blank.
func nonComment(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestKubernetesExample(t *testing.T) {
	objs := readManifests(t, "postgres.yaml", "job.yaml")
	for _, k := range []string{"Secret/olc-postgres", "StatefulSet/olc-postgres", "Service/olc-postgres", "ConfigMap/olc-study", "Job/olc-workers"} {
		if _, ok := objs[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
	job := objs["Job/olc-workers"]
	if job.Spec.Parallelism == nil || *job.Spec.Parallelism < 2 || job.Spec.Template.Spec.RestartPolicy != "OnFailure" {
		t.Errorf("the Job: parallelism %v, restart policy %q", job.Spec.Parallelism, job.Spec.Template.Spec.RestartPolicy)
	}
	if len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("the Job has %d containers", len(job.Spec.Template.Spec.Containers))
	}
	c := job.Spec.Template.Spec.Containers[0]
	if strings.Join(c.Args, " ") != "optimize --config /study/study.toml" {
		t.Errorf("the workers run %q", c.Args)
	}
	var store string
	for _, e := range c.Env {
		if e.Name == "OLC_STORE" {
			store = e.Value
		}
	}
	port := objs["Service/olc-postgres"].Spec.Ports
	if len(port) != 1 || !strings.HasPrefix(store, fmt.Sprintf("postgres://olc:$(PGPASSWORD)@olc-postgres:%d/olc", port[0].Port)) {
		t.Errorf("OLC_STORE %q does not name the Service olc-postgres on its port %v", store, port)
	}
	study := objs["ConfigMap/olc-study"].Data["study.toml"]
	want, err := os.ReadFile(filepath.Join(distributed, "study.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if nonComment(study) != nonComment(string(want)) {
		t.Errorf("the ConfigMap's study.toml differs from examples/distributed/study.toml:\n%s", study)
	}
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		out, err := exec.Command(kubectl, "kustomize", filepath.Join(distributed, "kubernetes")).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("kind: Job")) {
			t.Errorf("kubectl kustomize: %v\n%s", err, out)
		}
	} else {
		t.Log("kubectl is not installed: the manifests were parsed, not rendered by kubectl")
	}
	// The Job's pods: four workers with the ConfigMap's study and the
	// store in OLC_STORE, each with its pod's name as OLC_HOST.
	url := pgtest.URL(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "study", "study.toml"), study, 0o644)
	var pods []*worker
	for i := range 4 {
		pods = append(pods, startWorker(t, dir, url, []string{fmt.Sprintf("OLC_HOST=olc-workers-%d", i)}, append(c.Args[:2:2], filepath.Join(dir, "study", "study.toml"), "--trials", "16")...))
	}
	for i, p := range pods {
		p.wait(t)
		if p.code != 0 || !strings.Contains(p.out.String(), "trials: 16 of 16 complete") {
			t.Errorf("pod %d: exit %d\n%s%s", i, p.code, p.out.String(), p.errOut.String())
		}
	}
	e := exportStudy(t, dir, url, "hartmann6-distributed")
	checkComplete(t, e, 16)
}

// checkComplete checks that a study holds n complete trials numbered
// 0..n-1 with distinct parameters.
func checkComplete(t *testing.T, e exported, n int) {
	t.Helper()
	seen := map[string]bool{}
	for i, tr := range e.Trials {
		k := fmt.Sprint(tr.Params)
		if tr.Number != i || tr.State != "complete" || seen[k] {
			t.Errorf("trial %d: number %d, %s, params seen before: %v", i, tr.Number, tr.State, seen[k])
		}
		seen[k] = true
	}
	if len(e.Trials) != n {
		t.Errorf("%d trials, want %d", len(e.Trials), n)
	}
}

func TestSlurmExample(t *testing.T) {
	script, err := filepath.Abs(filepath.Join(distributed, "slurm", "olc-array.sbatch"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	// Without OLC_STORE the script stops at once and says why.
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "OLC_STORE=")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "set OLC_STORE") {
		t.Errorf("without OLC_STORE: %v\n%s", err, out)
	}
	// Four array tasks, with srun and olc on the PATH as on a cluster.
	url := pgtest.URL(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	writeFile(t, filepath.Join(bin, "srun"), "#!/bin/sh\n# srun --ntasks=1 CMD…: run CMD\nshift\nexec \"$@\"\n", 0o755)
	if err := os.Symlink(olc, filepath.Join(bin, "olc")); err != nil {
		t.Fatal(err)
	}
	study, err := os.ReadFile(filepath.Join(distributed, "study.toml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "study.toml"), strings.Replace(string(study), "trials = 64", "trials = 12", 1), 0o644)
	var tasks []*worker
	for i := range 4 {
		tasks = append(tasks, startCmd(t, dir, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "OLC_STORE=" + url,
			fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", i), "SLURM_ARRAY_JOB_ID=42"}, "bash", script))
	}
	for i, w := range tasks {
		w.wait(t)
		if w.code != 0 || !strings.Contains(w.out.String(), fmt.Sprintf("olc worker %d of job 42", i)) || !strings.Contains(w.out.String(), "trials: 12 of 12 complete") {
			t.Errorf("task %d: exit %d\n%s%s", i, w.code, w.out.String(), w.errOut.String())
		}
	}
	checkComplete(t, exportStudy(t, dir, url, "hartmann6-distributed"), 12)
}

func TestTorchrunExample(t *testing.T) {
	folder := filepath.Join(distributed, "torchrun")
	cfg, err := experiments.LoadConfig(filepath.Join(folder, "study.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Objective.Command[0] != "torchrun" || !strings.Contains(strings.Join(cfg.Objective.Command, " "), "train_ddp.py --lr {lr} --hidden {hidden}") {
		t.Errorf("the objective runs %q", cfg.Objective.Command)
	}
	if py, err := exec.LookPath("python3"); err == nil {
		out, err := exec.Command(py, "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", filepath.Join(folder, "train_ddp.py")).CombinedOutput()
		if err != nil {
			t.Errorf("train_ddp.py does not parse: %v\n%s", err, out)
		}
	}
	torchrun, err := exec.LookPath("torchrun")
	if err != nil {
		t.Log("torchrun is not installed: the study and the script were checked, not run")
		return
	}
	if out, err := exec.Command(filepath.Join(filepath.Dir(torchrun), "python3"), "-c", "import torch.distributed").CombinedOutput(); err != nil {
		t.Logf("torchrun is here but PyTorch does not import (%v: %s): not run", err, out)
		return
	}
	dir := t.TempDir()
	for _, f := range []string{"study.toml", "train_ddp.py"} {
		data, err := os.ReadFile(filepath.Join(folder, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f), string(data), 0o644)
	}
	r := runBinary(t, dir, "optimize", "--config", "study.toml", "--trials", "2", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	e := exportStudy(t, dir, "", "ddp-mlp")
	checkComplete(t, e, 2)
	out := runOLC(t, dir, "optimize", "export", "--study", "ddp-mlp")
	var full struct {
		Trials []struct {
			Metrics      map[string]float64
			Intermediate []json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(out.stdout), &full); err != nil {
		t.Fatal(err)
	}
	for i, tr := range full.Trials {
		if tr.Metrics["world_size"] != 2 || len(tr.Intermediate) != 8 || !(tr.Metrics["val_loss"] > 0) {
			t.Errorf("trial %d: metrics %v, %d intermediate values; want world size 2 and 8 epochs", i, tr.Metrics, len(tr.Intermediate))
		}
	}
}
