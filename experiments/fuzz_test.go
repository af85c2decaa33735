package experiments

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/olc-toolkit/olc/internal/tomlconf"
)

// FuzzParseConfig: any text gets a config or *ConfigErrors that name the
// file; never a panic. A config that parses plans or explains why not.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"[study]\nname = \"s\"\ntrials = 5\n[params.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n[objective]\nkind = \"builtin\"\nfunction = \"sphere\"\n",
		"[study]\nname = \"g\"\nsampler = \"grid\"\n[params.a]\ntype = \"int\"\nlow = 1\nhigh = 3\n[params.c]\ntype = \"categorical\"\nvalues = [\"x\", 2, true]\n[objective]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"echo {a}\"]\ntimeout = \"1m\"\n",
		"[study]\nname = \"b\"\nsampler = \"bayes\"\ntrials = 3\n[sampler.bayes]\nn_initial = 2\nkappa = 0.0\n[params.lr]\ntype = \"float\"\nlow = 1e-5\nhigh = 1e-1\nlog = true\n[objective]\nkind = \"builtin\"\nfunction = \"sphere\"\n",
		"\xEF\xBB\xBF[study]\nname = 3\n",
		"[[study]]\n",
		"a.b.c = {d = [1, {e = 2}]}\n",
		"[params]\nx = 1\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("f.toml", data)
		if err != nil {
			checkConfigErrors(t, err)
			return
		}
		if c.Space == nil {
			t.Fatal("a config without a search space parsed")
		}
		if c.Objective.Kind == "command" {
			return // Plan looks for the program on this machine
		}
		if _, err := c.Plan(); err != nil {
			checkConfigErrors(t, err)
		}
	})
}

func checkConfigErrors(t *testing.T, err error) {
	t.Helper()
	for _, e := range tomlconf.Unjoin(err) {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("%T is not a ConfigError: %v", e, e)
		}
		if ce.File != "f.toml" && ce.Flag == "" || ce.Line < 0 || ce.Msg == "" {
			t.Fatalf("a config error without its file, line or message: %+v", ce)
		}
	}
}

// FuzzParseMetrics: any stdout gives metrics or an error, never a panic;
// metrics are the numeric fields of an object line.
func FuzzParseMetrics(f *testing.F) {
	for _, seed := range []string{
		"{\"loss\": 0.5}\n",
		"epoch 1\n{\"step\": 1, \"loss\": 0.9}\n{\"step\": 2, \"loss\": NaN}\n{\"loss\": 0.4, \"acc\": Infinity}\n",
		"{\"loss\": -Infinity, \"x\": null, \"s\": \"text\"}",
		"{\"step\": 1e300, \"loss\": 1}\n{\"loss\": 2}\n",
		"not json\n{\n}\n{}",
		"{\"a\": [NaN, Infinity], \"b\": {\"c\": 1}}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, inter, err := parseMetrics(bytes.NewReader(data))
		if err != nil {
			if m != nil || inter != nil {
				t.Fatal("metrics with an error")
			}
			return
		}
		if m == nil {
			t.Fatal("no metrics and no error")
		}
		for _, iv := range inter {
			if _, ok := iv.Metrics["step"]; ok {
				t.Fatal("the step is kept among the intermediate metrics")
			}
			if math.Abs(float64(iv.Step)) > math.MaxInt32 {
				t.Fatalf("step %d", iv.Step)
			}
		}
	})
}
