package scalingplot_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/olc-toolkit/olc/scaling"
	"github.com/olc-toolkit/olc/scaling/scalingplot"
)

// TestDraw draws every kind of fit (two variables with and without a
// compute column, one variable, a complemented metric) in every format.
func TestDraw(t *testing.T) {
	cases := []struct {
		law     scaling.Law
		compute bool
		opts    scaling.Options
	}{
		{scaling.Chinchilla{}, false, optsWith(func(o *scaling.Options) { o.Compute = []float64{1e21} })},
		{scaling.Chinchilla{}, true, scaling.DefaultOptions()},
		{scaling.Context{}, false, scaling.DefaultOptions()},
		{scaling.Power2{}, false, optsWith(func(o *scaling.Options) { o.Transform = scaling.Complement })},
	}
	for _, c := range cases {
		params, design := scaling.Reference(c.law)
		d, err := scaling.Generate(c.law, params, design, 0.01, 1)
		if err != nil {
			t.Fatal(err)
		}
		if c.compute {
			d.Compute = make([]float64, d.Len())
			for i := range d.Compute {
				d.Compute[i] = 6 * d.Vars["N"][i] * d.Vars["D"][i]
			}
		}
		if c.opts.Transform == scaling.Complement {
			for i, l := range d.Loss {
				d.Loss[i] = 1 - l/100 // an accuracy-like metric below 1
			}
		}
		c.opts.Bootstrap = 30
		var starts [][]float64
		for i, s := range c.law.Starts() {
			if i%50 == 0 {
				starts = append(starts, s)
			}
		}
		c.opts.Starts = starts
		res, err := scaling.Fit(context.Background(), c.law, d, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.law.Name(), err)
		}
		for format, magic := range map[string]string{"png": "\x89PNG", "svg": "<?xml", "pdf": "%PDF"} {
			var buf bytes.Buffer
			if err := scalingplot.Draw(&buf, format, res, d); err != nil {
				t.Fatalf("%s %s: %v", c.law.Name(), format, err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte(magic)) || buf.Len() < 5000 {
				t.Errorf("%s %s: %d bytes starting %q", c.law.Name(), format, buf.Len(), buf.Bytes()[:min(8, buf.Len())])
			}
		}
	}
	if err := scalingplot.Draw(&bytes.Buffer{}, "gif", &scaling.Result{Law: scaling.Power2{}}, &scaling.Data{Vars: map[string][]float64{"x": {1, 2}}, Loss: []float64{1, 2}}); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// optsWith returns scaling.DefaultOptions with set applied.
func optsWith(set func(*scaling.Options)) scaling.Options {
	o := scaling.DefaultOptions()
	set(&o)
	return o
}
