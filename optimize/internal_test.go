package optimize

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func TestWarpInverse(t *testing.T) {
	for _, l := range []float64{-2.5, -1, 0, 0.5, 1, 2, 2.7} {
		for _, box := range []bool{false, true} {
			w := powerTransform{lambda: l, boxCox: box}
			for _, y := range []float64{-3, -0.5, 0, 0.2, 1, 7.5} {
				if box && y <= 0 {
					continue
				}
				if got := w.inverse(w.forward(y)); math.Abs(got-y) > 1e-9*max(1, math.Abs(y)) {
					t.Errorf("λ=%v boxCox=%v: inverse(forward(%v)) = %v", l, box, y, got)
				}
			}
		}
	}
}

// TestWarpMLE compares the fitted λ with a brute-force search of the
// profile log-likelihood on a fine grid, and checks the textbook case:
// Box-Cox of log-normal data is the log (λ = 0).
func TestWarpMLE(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	logn := make([]float64, 400)
	skew := make([]float64, 60)
	for i := range logn {
		logn[i] = math.Exp(rnd.NormFloat64())
	}
	for i := range skew {
		skew[i] = math.Pow(rnd.Float64(), 3)*10 - 2
	}
	for _, c := range []struct {
		y   []float64
		box bool
	}{{logn, true}, {skew, false}, {logn, false}} {
		got := fitPower(c.y, c.box)
		bestL, bestF := 0.0, math.Inf(-1)
		for l := -3.0; l <= 3; l += 1e-3 {
			if f := powerLogLik(c.y, powerTransform{lambda: l, boxCox: c.box}); f > bestF {
				bestL, bestF = l, f
			}
		}
		if math.Abs(got.lambda-bestL) > 2e-3 {
			t.Errorf("boxCox=%v: λ = %.4f, grid search %.4f", c.box, got.lambda, bestL)
		}
	}
	if l := fitPower(logn, true).lambda; math.Abs(l) > 0.1 {
		t.Errorf("Box-Cox λ of log-normal data = %.3f, want near 0", l)
	}
	if w := fitWarp([]float64{1, 2, 3}); !w.boxCox {
		t.Error("positive values should get Box-Cox")
	}
	if w := fitWarp([]float64{-1, 2, 3}); w.boxCox {
		t.Error("values ≤ 0 should get Yeo-Johnson")
	}
}

func TestEncodeDecode(t *testing.T) {
	space, _ := NewSpace(
		Param{Name: "f", Kind: Float, Low: -1, High: 3},
		Param{Name: "lf", Kind: Float, Low: 1e-4, High: 1, Log: true},
		Param{Name: "sf", Kind: Float, Low: 0, High: 1, Step: 0.25},
		Param{Name: "i", Kind: Int, Low: -2, High: 5},
		Param{Name: "li", Kind: Int, Low: 1, High: 512, Log: true},
		Param{Name: "si", Kind: Int, Low: 0, High: 12, Step: 4},
		Param{Name: "c", Kind: Categorical, Values: []any{"a", int64(2), 0.5}},
	)
	e := newEncoder(space)
	rnd := rand.New(rand.NewPCG(3, 4))
	u := make([]float64, space.Len())
	for range 500 {
		for i := range u {
			u[i] = rnd.Float64()
		}
		p := space.FromUnit(u)
		x, ok := e.encode(p)
		if !ok {
			t.Fatalf("encode(%v) failed", p)
		}
		for i, v := range x {
			if !e.cat[i] && (v < 0 || v > 1) {
				t.Fatalf("coordinate %d of %v = %v, outside [0, 1]", i, p, v)
			}
		}
		if q := e.decode(x); !q.Equal(p) {
			t.Fatalf("decode(encode(%v)) = %v", p, q)
		}
	}
	if _, ok := e.encode(Params{"f": 1.0}); ok {
		t.Error("encode of incomplete params succeeded")
	}
}

// TestCollectPruned: a pruned trial enters the model as the worse of its
// last value and the median complete value, is never a trial the model
// recommends, and its point is not proposed again; a warm start's trials
// enter with their values.
func TestCollectPruned(t *testing.T) {
	space, err := NewSpace(Param{Name: "x", Kind: Float, Low: 0, High: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBayes(space, 1, DefaultBayesOptions(1))
	if err != nil {
		t.Fatal(err)
	}
	obs := func(n int, s State, x, v float64) Observation {
		return Observation{Number: n, Params: Params{"x": x}, State: s, Value: v}
	}
	for _, dir := range []Direction{Minimize, Maximize} {
		sign := 1.0
		if dir == Maximize {
			sign = -1
		}
		h := &History{Direction: dir, Trials: []Observation{
			obs(0, Complete, 1, sign*1), obs(1, Complete, 2, sign*2), obs(2, Complete, 3, sign*3),
			obs(3, Pruned, 4, sign*0.5), // better than the median (of 1, 2, 3 and the prior's 4) when stopped: taken as it
			obs(4, Pruned, 5, sign*9),   // worse: kept
			obs(5, Pruned, 6, math.NaN()),
			obs(6, Failed, 7, math.NaN()),
		}, Prior: []Observation{obs(0, Complete, 8, sign*4), obs(1, Failed, 9, math.NaN())}}
		d := b.collect(h)
		var got []float64
		for i := range d.x {
			got = append(got, d.unwarp(d.y[i]))
		}
		// The model works on the negated values when maximizing.
		want := []float64{4, 1, 2, 3, 2.5, 9}
		if len(got) != len(want) {
			t.Fatalf("%s: model data %v, want %v", dir, got, want)
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-9 {
				t.Errorf("%s: model value %d = %v, want %v", dir, i, got[i], want[i])
			}
		}
		if nums := d.numbers; nums[0] != -1 || nums[1] != 0 || nums[4] != -1 || nums[5] != -1 || d.prior != 1 {
			t.Errorf("%s: numbers %v, prior %d", dir, nums, d.prior)
		}
		for _, x := range []float64{4, 5, 6, 7} {
			if !d.taken[paramsKey(Params{"x": x})] {
				t.Errorf("%s: x = %v may be proposed again", dir, x)
			}
		}
	}
}

func TestStalled(t *testing.T) {
	tests := []struct {
		name    string
		y       []float64
		numbers []int
		want    int
	}{
		{"empty", nil, nil, 0},
		{"improving", []float64{0, -1, -2, -3}, []int{0, 1, 2, 3}, 0},
		{"flat tail", []float64{0, -1, -0.5, -1, 2}, []int{0, 1, 2, 3, 4}, 3},
		// Improvements below the margin do not end a stall.
		{"creeping", []float64{0, -1, -1 - 0.6e-3, -1 - 1.2e-3, -1 - 1.5e-3}, []int{0, 1, 2, 3, 4}, 3},
		{"material", []float64{0, -1, -1 - 0.5e-3, -1 - 1.6e-3}, []int{0, 1, 2, 3}, 0},
		// Warm-start and pruned trials (number -1) do not count.
		{"others skipped", []float64{0, -5, -1, -5, 3}, []int{0, -1, 1, -1, 2}, 1},
	}
	for _, tt := range tests {
		if got := stalled(&data{y: tt.y, numbers: tt.numbers}); got != tt.want {
			t.Errorf("%s: stalled = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestIsProbe(t *testing.T) {
	tests := []struct {
		s, patience int
		want        bool
	}{
		{0, 10, false}, {9, 10, false}, {10, 10, true}, {11, 10, false}, {14, 10, false},
		{15, 10, true}, {20, 10, true}, {1000, 10, true}, {1001, 10, false},
		{3, 3, true}, {8, 3, true}, {7, 3, false}, {0, 0, false}, {50, 0, false},
	}
	for _, tt := range tests {
		if got := isProbe(tt.s, tt.patience); got != tt.want {
			t.Errorf("isProbe(%d, %d) = %v, want %v", tt.s, tt.patience, got, tt.want)
		}
	}
}

// TestBayesProbesWhenStalled: once the best value has not improved for
// Patience trials, the next proposal is a probe (UCB with twice κ), which
// differs from the ordinary proposal and lies farther from the trials;
// the proposal after it is the ordinary one again.
func TestBayesProbesWhenStalled(t *testing.T) {
	space, err := NewSpace(Param{Name: "x", Kind: Float, Low: 0, High: 1}, Param{Name: "y", Kind: Float, Low: 0, High: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := func(p Params) float64 {
		x, y := p["x"].(float64), p["y"].(float64)
		return -math.Exp(-((x-0.3)*(x-0.3)+(y-0.6)*(y-0.6))/0.05) - 2*math.Exp(-((x-0.9)*(x-0.9)+(y-0.1)*(y-0.1))/0.001)
	}
	propose := func(h *History, patience int) Params {
		o := DefaultBayesOptions(2)
		o.Patience = patience
		b, err := NewBayes(space, 3, o)
		if err != nil {
			t.Fatal(err)
		}
		p, err := b.Propose(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		return p.Params
	}
	nearest := func(h *History, p Params) float64 {
		d := math.Inf(1)
		for _, o := range h.Trials {
			dx, dy := o.Params["x"].(float64)-p["x"].(float64), o.Params["y"].(float64)-p["y"].(float64)
			d = min(d, math.Hypot(dx, dy))
		}
		return d
	}
	// Run without probes until the search has stalled for 10 trials.
	o := DefaultBayesOptions(2)
	o.Patience = 0
	b, err := NewBayes(space, 3, o)
	if err != nil {
		t.Fatal(err)
	}
	h := &History{Direction: Minimize}
	for n := 0; ; n++ {
		if n == 80 {
			t.Fatal("the search never stalled for 10 trials in 80")
		}
		b.mu.Lock()
		s := stalled(b.collect(h))
		b.mu.Unlock()
		if s == 10 && n > o.NInitial {
			break
		}
		p, err := b.Propose(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		h.Trials = append(h.Trials, Observation{Number: n, Params: p.Params, State: Complete, Value: f(p.Params), Key: p.Key})
	}
	probe, plain := propose(h, 10), propose(h, 0)
	if paramsKey(probe) == paramsKey(plain) {
		t.Fatalf("after 10 stalled trials the probe %v equals the ordinary proposal", probe)
	}
	if dp, do := nearest(h, probe), nearest(h, plain); dp <= do {
		t.Errorf("probe %v is %.3g from the nearest trial, the ordinary proposal %v %.3g: want farther", probe, dp, plain, do)
	}
	// One more stalled trial: not a probe.
	h.Trials = append(h.Trials, Observation{Number: len(h.Trials), Params: plain, State: Complete, Value: max(f(plain), best(h)+1)})
	if a, c := propose(h, 10), propose(h, 0); paramsKey(a) != paramsKey(c) {
		t.Errorf("after 11 stalled trials the proposal %v differs from the ordinary %v", a, c)
	}
}

func best(h *History) float64 {
	b := math.Inf(1)
	for _, o := range h.Trials {
		b = min(b, o.Value)
	}
	return b
}

func TestIsLocal(t *testing.T) {
	flat, err := NewSpace(Param{Name: "x", Kind: Float, Low: 0, High: 1}, Param{Name: "y", Kind: Float, Low: 0, High: 1})
	if err != nil {
		t.Fatal(err)
	}
	params := make([]Param, 7)
	for i := range params {
		params[i] = Param{Name: string(rune('a' + i)), Kind: Float, Low: 0, High: 1}
	}
	wide, err := NewSpace(params...)
	if err != nil {
		t.Fatal(err)
	}
	cond, err := NewSpace(Param{Name: "opt", Kind: Categorical, Values: []any{"sgd", "adam"}},
		Param{Name: "m", Kind: Float, Low: 0, High: 1, Conditions: []Condition{{Param: "opt", Values: []any{"sgd"}}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		space *Space
		every int
		j, n  int
		want  bool
	}{
		{"odd proposal", flat, 2, 41, 41, true},
		{"even proposal", flat, 2, 42, 42, false},
		{"too few trials", flat, 2, 39, 39, false},
		{"every third", flat, 3, 44, 44, true},
		{"every third, not this one", flat, 3, 45, 45, false},
		{"every one", flat, 1, 40, 40, true},
		{"never", flat, 0, 41, 41, false},
		{"7-d needs 56 trials", wide, 2, 55, 55, false},
		{"7-d with 56", wide, 2, 57, 56, true},
		{"conditional space", cond, 1, 101, 100, false},
	}
	for _, tt := range tests {
		o := DefaultBayesOptions(tt.space.Len())
		o.LocalEvery = tt.every
		b, err := NewBayes(tt.space, 1, o)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.isLocal(tt.j, tt.n); got != tt.want {
			t.Errorf("%s: isLocal(%d, %d) = %v, want %v", tt.name, tt.j, tt.n, got, tt.want)
		}
	}
}

// TestNeighbourhood checks the local model's trials and box on hand-made
// data: 25 trials along x at 0.01 apart, the best in the middle, so the 20
// nearest reach 0.10 from it; an int dimension all trials share gets one
// bin each way; a categorical one stays whole.
func TestNeighbourhood(t *testing.T) {
	space, err := NewSpace(Param{Name: "x", Kind: Float, Low: 0, High: 1},
		Param{Name: "k", Kind: Int, Low: 0, High: 4},
		Param{Name: "c", Kind: Categorical, Values: []any{"a", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBayes(space, 1, DefaultBayesOptions(3))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		centre float64
		lo, hi float64
	}{
		{"inside", 0.5, 0.4, 0.6},
		{"clipped at 0", 0.05, 0, 0.15},
	} {
		d := &data{}
		for i := -12; i <= 12; i++ {
			d.x = append(d.x, []float64{tt.centre + 0.01*float64(i), 0.5, 1})
			d.y = append(d.y, math.Abs(float64(i))+1)
		}
		near, lo, hi := b.neighbourhood(d)
		if len(near) != 20 {
			t.Fatalf("%s: %d neighbours, want 20", tt.name, len(near))
		}
		if near[0] != 12 {
			t.Errorf("%s: nearest %d, want the best trial, 12", tt.name, near[0])
		}
		for _, k := range near {
			if i := k - 12; i < -10 || i > 10 {
				t.Errorf("%s: trial %d (offset %d) is not among the 20 nearest", tt.name, k, i)
			}
		}
		want := [][2]float64{{tt.lo, tt.hi}, {0.3, 0.7}, {0, 1}}
		for i, w := range want {
			if math.Abs(lo[i]-w[0]) > 1e-12 || math.Abs(hi[i]-w[1]) > 1e-12 {
				t.Errorf("%s: dimension %d box [%v, %v], want [%v, %v]", tt.name, i, lo[i], hi[i], w[0], w[1])
			}
		}
	}
}

// TestLocalProposal: once the history holds 40 trials, every other
// proposal comes from the local model and lies in the neighbourhood's
// box; the others, and all of them with LocalEvery = 0, come from the
// global model.
func TestLocalProposal(t *testing.T) {
	space, err := NewSpace(Param{Name: "x", Kind: Float, Low: -5, High: 10}, Param{Name: "y", Kind: Float, Low: 0, High: 15})
	if err != nil {
		t.Fatal(err)
	}
	f := func(p Params) float64 {
		x, y := p["x"].(float64), p["y"].(float64)
		return (x-2)*(x-2) + 10*(y-x*x/4)*(y-x*x/4) // a curved valley
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	h := &History{Direction: Minimize}
	for n := range 41 {
		p := Params{"x": -5 + 15*rnd.Float64(), "y": 15 * rnd.Float64()}
		h.Trials = append(h.Trials, Observation{Number: n, Params: p, State: Complete, Value: f(p)})
	}
	for _, tt := range []struct {
		every int
		n     int
		local bool
	}{{2, 41, true}, {2, 40, false}, {0, 41, false}} {
		o := DefaultBayesOptions(2)
		o.LocalEvery = tt.every
		b, err := NewBayes(space, 7, o)
		if err != nil {
			t.Fatal(err)
		}
		hn := &History{Direction: Minimize, Trials: h.Trials[:tt.n]}
		p, err := b.Propose(context.Background(), hn)
		if err != nil {
			t.Fatal(err)
		}
		tm := b.Timings()
		if tm.Local != tt.local {
			t.Fatalf("LocalEvery %d after %d trials: local = %v, want %v", tt.every, tt.n, tm.Local, tt.local)
		}
		if !tt.local {
			if tm.Observations != tt.n {
				t.Errorf("global proposal saw %d trials, want %d", tm.Observations, tt.n)
			}
			continue
		}
		if tm.Observations != 20 {
			t.Errorf("local proposal saw %d trials, want 20", tm.Observations)
		}
		_, lo, hi := b.neighbourhood(b.collect(hn))
		x, ok := b.enc.encode(p.Params)
		if !ok {
			t.Fatalf("proposal %v is not in the space", p.Params)
		}
		for i := range x {
			if x[i] < lo[i]-1e-12 || x[i] > hi[i]+1e-12 {
				t.Errorf("local proposal %v: coordinate %d = %v outside the box [%v, %v]", p.Params, i, x[i], lo[i], hi[i])
			}
		}
		if hi[0]-lo[0] > 0.9 && hi[1]-lo[1] > 0.9 {
			t.Errorf("the box [%v, %v] is the whole space: the test shows nothing", lo, hi)
		}
	}
}
