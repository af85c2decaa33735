package scaling_test

import (
	"context"
	"fmt"

	"github.com/olc-toolkit/olc/scaling"
)

// The project documentation's example: three model sizes, their dataset
// sizes and the accuracies they reached. Three points cannot identify
// Chinchilla's five parameters, and olc says so and which laws they can
// identify; the two-parameter power law in N is fitted to 1 − accuracy and
// predicts back on the accuracy's scale.
func Example() {
	ctx := context.Background()
	d := &scaling.Data{
		Vars: map[string][]float64{"N": {1e6, 1e7, 1e8}, "D": {1e9, 1e10, 1e11}},
		Loss: []float64{0.80, 0.85, 0.90},
	}
	opts := scaling.DefaultOptions()
	opts.Transform = scaling.Complement // fit 1 − accuracy
	opts.Seed = 1
	_, err := scaling.Fit(ctx, scaling.Chinchilla{}, d, opts)
	fmt.Println(err)

	res, err := scaling.Fit(ctx, scaling.KaplanN{}, d, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	a := res.Params["alpha_N"]
	fmt.Printf("1 - accuracy = (N_c/N)^alpha_N with alpha_N = %.3f\n", a.Value)
	fmt.Printf("accuracy at N = 1e9: %.3f\n", res.PredictAt([]float64{1e9}).Value)
	fmt.Println(res.Warnings[0])
	// Output:
	// the data cannot identify the law chinchilla: it has 5 parameters, so it needs at least 6 points, and there are 3; laws these data can identify: kaplan-d (L(D) = (D_c/D)^alpha_D, 2 parameters); kaplan-n (L(N) = (N_c/N)^alpha_N, 2 parameters)
	// 1 - accuracy = (N_c/N)^alpha_N with alpha_N = 0.151
	// accuracy at N = 1e9: 0.929
	// 3 points for 2 parameters: with so few, the bootstrap intervals are rough and tend to be too narrow
}

// ExampleFit fits Chinchilla's law to runs generated from Hoffmann et
// al.'s published parameters, with bootstrap intervals and the
// compute-optimal allocation for a budget of 1e21 FLOPs.
func ExampleFit() {
	law := scaling.Chinchilla{}
	truth, design := scaling.Reference(law) // E 1.69, A 406.4, B 410.7, α 0.34, β 0.28; 250 runs
	d, _ := scaling.Generate(law, truth, design, 0.01, 1)
	var starts [][]float64 // every 90th start of Hoffmann's grid, to keep the example quick
	for i, s := range law.Starts() {
		if i%90 == 0 {
			starts = append(starts, s)
		}
	}
	opts := scaling.DefaultOptions()
	opts.Starts, opts.Bootstrap, opts.Compute = starts, 50, []float64{1e21}
	res, err := scaling.Fit(context.Background(), law, d, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range res.ParamNames {
		e := res.Params[name]
		fmt.Printf("%-5s %7.3f  [%.3f, %.3f]\n", name, e.Value, e.CI[0], e.CI[1])
	}
	o := res.Optimal[0]
	fmt.Printf("C = 1e21: N_opt = %.2g, D_opt = %.2g, %.0f tokens per parameter\n", o.N.Value, o.D.Value, o.TokensPerParam.Value)
	// Output:
	// E       1.696  [1.662, 1.715]
	// A     417.395  [311.802, 506.951]
	// B     451.908  [398.354, 491.630]
	// alpha   0.342  [0.323, 0.354]
	// beta    0.285  [0.278, 0.290]
	// C = 1e21: N_opt = 1.9e+09, D_opt = 9e+10, 49 tokens per parameter
}

// ExampleAnalyze fits every law the documentation's three points can
// identify, and says why it skips the others.
func ExampleAnalyze() {
	d := &scaling.Data{
		Vars: map[string][]float64{"N": {1e6, 1e7, 1e8}, "D": {1e9, 1e10, 1e11}},
		Loss: []float64{0.80, 0.85, 0.90},
	}
	opts := scaling.DefaultOptions()
	opts.Transform, opts.Bootstrap = scaling.Complement, 0
	a, err := scaling.Analyze(context.Background(), d, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range a.Fits {
		fmt.Printf("fitted %s: %s\n", f.LawName, f.Formula)
	}
	for _, s := range a.Skipped {
		fmt.Printf("skipped %s: %s\n", s.Law, s.Reason)
	}
	// Output:
	// fitted kaplan-d: L(D) = (D_c/D)^alpha_D
	// fitted kaplan-n: L(N) = (N_c/N)^alpha_N
	// skipped chinchilla: it has 5 parameters, so it needs at least 6 points, and there are 3
	// skipped kaplan: it has 4 parameters, so it needs at least 5 points, and there are 3
}
