// Package functions provides test functions for optimization with their
// known optima, domains and sources, for tests, benchmarks and the builtin
// objective of olc studies.
//
// The definitions and optima follow S. Surjanovic and D. Bingham, "Virtual
// Library of Simulation Experiments: Test Functions and Datasets"
// (https://www.sfu.ca/~ssurjano/), which cites each function's origin; every
// Function's Source field repeats that citation.
package functions

import (
	"fmt"
	"math"
	"slices"
)

// Function is a test function to minimize.
type Function struct {
	// Name is the function's name as configs spell it.
	Name string
	// Dim is the function's dimension, or 0 when it is defined in any
	// dimension of at least MinDim.
	Dim int
	// MinDim is the smallest dimension of a function with Dim 0.
	MinDim int
	// Eval returns the function's value at x.
	Eval func(x []float64) float64
	// Min returns the global minimum in dimension d.
	Min func(d int) float64
	// Argmin returns the global minimizers in dimension d (all of them,
	// when there are finitely many).
	Argmin func(d int) [][]float64
	// Low and High return the usual search domain in dimension d.
	Low, High func(d int) []float64
	// Source cites the function's origin.
	Source string
}

// AcceptsDim reports whether the function is defined in dimension d.
func (f *Function) AcceptsDim(d int) bool {
	if f.Dim > 0 {
		return d == f.Dim
	}
	return d >= max(f.MinDim, 1)
}

// DimString describes the dimensions the function accepts: "2" or "any ≥ 2".
func (f *Function) DimString() string { return dimString(f.Dim, f.MinDim) }

func dimString(dim, minDim int) string {
	if dim > 0 {
		return fmt.Sprint(dim)
	}
	return fmt.Sprintf("any ≥ %d", max(minDim, 1))
}

// Lookup returns the function called name.
func Lookup(name string) (*Function, bool) {
	for i := range all {
		if all[i].Name == name {
			f := all[i]
			return &f, true
		}
	}
	return nil, false
}

// Names returns the names of all functions, sorted.
func Names() []string {
	names := make([]string, len(all))
	for i := range all {
		names[i] = all[i].Name
	}
	slices.Sort(names)
	return names
}

func constant(c float64) func(int) float64 { return func(int) float64 { return c } }

func fill(c float64) func(int) []float64 {
	return func(d int) []float64 {
		x := make([]float64, d)
		for i := range x {
			x[i] = c
		}
		return x
	}
}

func fixed(x ...float64) func(int) []float64 {
	return func(int) []float64 { return slices.Clone(x) }
}

func single(c float64) func(int) [][]float64 {
	return func(d int) [][]float64 { return [][]float64{fill(c)(d)} }
}

var all = []Function{
	{
		Name: "sphere", MinDim: 1,
		Eval: Sphere, Min: constant(0), Argmin: single(0),
		Low: fill(-5.12), High: fill(5.12),
		Source: "De Jong, K. A. (1975), An analysis of the behavior of a class of genetic adaptive systems, PhD thesis, University of Michigan",
	},
	{
		Name: "branin", Dim: 2,
		Eval: Branin, Min: constant(5 / (4 * math.Pi)),
		Argmin: func(int) [][]float64 {
			return [][]float64{{-math.Pi, 12.275}, {math.Pi, 2.275}, {3 * math.Pi, 2.475}}
		},
		Low: fixed(-5, 0), High: fixed(10, 15),
		Source: "Dixon, L. C. W. and Szegő, G. P. (1978), The global optimization problem: an introduction, in Towards Global Optimisation 2, North-Holland, pp. 1-15",
	},
	{
		Name: "hartmann3", Dim: 3,
		Eval: Hartmann3, Min: constant(-3.86278214782076),
		Argmin: func(int) [][]float64 { return [][]float64{{0.114614, 0.555649, 0.852547}} },
		Low:    fill(0), High: fill(1),
		Source: "Hartman, J. K. (1973), Some experiments in global optimization, Naval Research Logistics Quarterly 20(3), 569-576; constants from Dixon and Szegő (1978)",
	},
	{
		Name: "hartmann6", Dim: 6,
		Eval: Hartmann6, Min: constant(-3.32236801141551),
		Argmin: func(int) [][]float64 {
			return [][]float64{{0.20168952, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730054}}
		},
		Low: fill(0), High: fill(1),
		Source: "Hartman, J. K. (1973), Some experiments in global optimization, Naval Research Logistics Quarterly 20(3), 569-576; constants from Dixon and Szegő (1978)",
	},
	{
		Name: "ackley", MinDim: 1,
		Eval: Ackley, Min: constant(0), Argmin: single(0),
		Low: fill(-32.768), High: fill(32.768),
		Source: "Ackley, D. H. (1987), A connectionist machine for genetic hillclimbing, Kluwer; general form of Bäck, T. (1996), Evolutionary Algorithms in Theory and Practice",
	},
	{
		Name: "rosenbrock", MinDim: 2,
		Eval: Rosenbrock, Min: constant(0), Argmin: single(1),
		Low: fill(-5), High: fill(10),
		Source: "Rosenbrock, H. H. (1960), An automatic method for finding the greatest or least value of a function, The Computer Journal 3(3), 175-184",
	},
	{
		Name: "levy", MinDim: 1,
		Eval: Levy, Min: constant(0), Argmin: single(1),
		Low: fill(-10), High: fill(10),
		Source: "Levy, A. V. and Montalvo, A. (1985), The tunneling algorithm for the global minimization of functions, SIAM J. Sci. Stat. Comput. 6(1), 15-29; form of Laguna, M. and Martí, R. (2005), J. Global Optim. 33, 235-255",
	},
	{
		Name: "rastrigin", MinDim: 1,
		Eval: Rastrigin, Min: constant(0), Argmin: single(0),
		Low: fill(-5.12), High: fill(5.12),
		Source: "Rastrigin, L. A. (1974), Systems of Extremal Control, Nauka, Moscow; generalized by Mühlenbein, H., Schomisch, M. and Born, J. (1991), Parallel Computing 17, 619-632",
	},
	{
		Name: "styblinski-tang", MinDim: 1,
		Eval: StyblinskiTang, Min: func(d int) float64 { return -39.16616570377142 * float64(d) },
		Argmin: single(-2.903534027771178),
		Low:    fill(-5), High: fill(5),
		Source: "Styblinski, M. A. and Tang, T.-S. (1990), Experiments in nonconvex optimization: stochastic approximation with function smoothing and simulated annealing, Neural Networks 3(4), 467-483",
	},
	{
		Name: "griewank", MinDim: 1,
		Eval: Griewank, Min: constant(0), Argmin: single(0),
		Low: fill(-600), High: fill(600),
		Source: "Griewank, A. O. (1981), Generalized descent for global optimization, J. Optim. Theory Appl. 34(1), 11-39",
	},
	{
		Name: "six-hump-camel", Dim: 2,
		Eval: SixHumpCamel, Min: constant(-1.031628453489877),
		Argmin: func(int) [][]float64 {
			return [][]float64{{0.08984201368301331, -0.7126564032704135}, {-0.08984201368301331, 0.7126564032704135}}
		},
		Low: fixed(-3, -2), High: fixed(3, 2),
		Source: "Dixon, L. C. W. and Szegő, G. P. (1978), The global optimization problem: an introduction, in Towards Global Optimisation 2, North-Holland, pp. 1-15",
	},
	{
		Name: "dixon-price", MinDim: 2,
		Eval: DixonPrice, Min: constant(0), Argmin: dixonPriceArgmin,
		Low: fill(-10), High: fill(10),
		Source: "Dixon, L. C. W. and Price, R. C. (1989), Truncated Newton method for sparse unconstrained optimization using automatic differentiation, J. Optim. Theory Appl. 60(2), 261-275",
	},
	{
		Name: "shekel", Dim: 4,
		Eval: Shekel, Min: func(int) float64 { return Shekel(shekelArgmin) },
		Argmin: func(int) [][]float64 { return [][]float64{shekelArgmin} },
		Low:    fill(0), High: fill(10),
		Source: "Shekel, J. (1971), Test functions for multimodal search techniques, Fifth Annual Princeton Conference on Information Science and Systems; constants from Dixon and Szegő (1978)",
	},
	{
		Name: "schwefel", MinDim: 1,
		Eval: Schwefel, Min: func(d int) float64 { return Schwefel(fill(schwefelX)(d)) },
		Argmin: single(schwefelX),
		Low:    fill(-500), High: fill(500),
		Source: "Schwefel, H.-P. (1981), Numerical Optimization of Computer Models, Wiley; form of Surjanovic and Bingham's library",
	},
	{
		Name: "goldstein-price", Dim: 2,
		Eval: GoldsteinPrice, Min: constant(3),
		Argmin: func(int) [][]float64 { return [][]float64{{0, -1}} },
		Low:    fill(-2), High: fill(2),
		Source: "Goldstein, A. A. and Price, J. F. (1971), On descent from local minima, Mathematics of Computation 25(115), 569-574",
	},
}

// DixonPrice is (x₁ − 1)² + Σᵢ₌₂ i·(2xᵢ² − xᵢ₋₁)².
func DixonPrice(x []float64) float64 {
	s := (x[0] - 1) * (x[0] - 1)
	for i := 1; i < len(x); i++ {
		v := 2*x[i]*x[i] - x[i-1]
		s += float64(i+1) * v * v
	}
	return s
}

// dixonPriceArgmin returns the minimizers: xᵢ = ±2^−(2ⁱ−2)/2ⁱ (any sign
// for i ≥ 2 gives the same value; the positive one is listed).
func dixonPriceArgmin(d int) [][]float64 {
	x := make([]float64, d)
	for i := range x {
		p := math.Pow(2, float64(i+1))
		x[i] = math.Pow(2, -(p-2)/p)
	}
	return [][]float64{x}
}

var (
	shekelBeta = [10]float64{1, 2, 2, 4, 4, 6, 3, 7, 5, 5}
	shekelC    = [4][10]float64{
		{4, 1, 8, 6, 3, 2, 5, 8, 6, 7},
		{4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6},
		{4, 1, 8, 6, 3, 2, 5, 8, 6, 7},
		{4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6},
	}
	// shekelArgmin is the minimizer to 15 digits (near (4, 4, 4, 4),
	// where the published value −10.5364 is attained to four digits),
	// found by Newton's method on the gradient from (4, 4, 4, 4).
	shekelArgmin = []float64{4.0007468682706344, 3.9995094800857736, 4.0007468682706344, 3.9995094800857736}
)

// Shekel is the 4-d Shekel function with m = 10 terms:
// −Σᵢ (Σⱼ (xⱼ − Cⱼᵢ)² + βᵢ/10)⁻¹.
func Shekel(x []float64) float64 {
	checkDim("shekel", x, 4)
	s := 0.0
	for i := range 10 {
		e := shekelBeta[i] / 10
		for j := range 4 {
			d := x[j] - shekelC[j][i]
			e += d * d
		}
		s -= 1 / e
	}
	return s
}

// Schwefel is 418.9829·d − Σ xᵢ sin(√|xᵢ|).
func Schwefel(x []float64) float64 {
	s := 418.9829 * float64(len(x))
	for _, v := range x {
		s -= v * math.Sin(math.Sqrt(math.Abs(v)))
	}
	return s
}

// schwefelX is Schwefel's minimizer per coordinate: the root of
// sin(√x) + (√x/2)·cos(√x) = 0 near 420.97, to 15 digits.
const schwefelX = 420.96874635998199

// Sphere is Σ x_i².
func Sphere(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return s
}

// Branin is a(x₂ − b·x₁² + c·x₁ − r)² + s(1 − t)·cos(x₁) + s with a = 1,
// b = 5.1/(4π²), c = 5/π, r = 6, s = 10 and t = 1/(8π).
func Branin(x []float64) float64 {
	checkDim("branin", x, 2)
	const (
		a = 1.0
		r = 6.0
		s = 10.0
	)
	b := 5.1 / (4 * math.Pi * math.Pi)
	c := 5 / math.Pi
	t := 1 / (8 * math.Pi)
	u := x[1] - b*x[0]*x[0] + c*x[0] - r
	return a*u*u + s*(1-t)*math.Cos(x[0]) + s
}

var (
	hart3A = [4][3]float64{{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}}
	hart3P = [4][3]float64{
		{0.3689, 0.1170, 0.2673},
		{0.4699, 0.4387, 0.7470},
		{0.1091, 0.8732, 0.5547},
		{0.0381, 0.5743, 0.8828},
	}
	hart6A = [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	hart6P = [4][6]float64{
		{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
		{0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
		{0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
		{0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381},
	}
	hartAlpha = [4]float64{1.0, 1.2, 3.0, 3.2}
)

// Hartmann3 is −Σᵢ αᵢ exp(−Σⱼ Aᵢⱼ (xⱼ − Pᵢⱼ)²) with the 3-d constants.
func Hartmann3(x []float64) float64 {
	checkDim("hartmann3", x, 3)
	s := 0.0
	for i := range 4 {
		e := 0.0
		for j := range 3 {
			d := x[j] - hart3P[i][j]
			e += hart3A[i][j] * d * d
		}
		s -= hartAlpha[i] * math.Exp(-e)
	}
	return s
}

// Hartmann6 is −Σᵢ αᵢ exp(−Σⱼ Aᵢⱼ (xⱼ − Pᵢⱼ)²) with the 6-d constants.
func Hartmann6(x []float64) float64 {
	checkDim("hartmann6", x, 6)
	s := 0.0
	for i := range 4 {
		e := 0.0
		for j := range 6 {
			d := x[j] - hart6P[i][j]
			e += hart6A[i][j] * d * d
		}
		s -= hartAlpha[i] * math.Exp(-e)
	}
	return s
}

// Ackley is −20·exp(−0.2·√(Σx²/d)) − exp(Σcos(2πx)/d) + 20 + e.
func Ackley(x []float64) float64 {
	d := float64(len(x))
	s1, s2 := 0.0, 0.0
	for _, v := range x {
		s1 += v * v
		s2 += math.Cos(2 * math.Pi * v)
	}
	return -20*math.Exp(-0.2*math.Sqrt(s1/d)) - math.Exp(s2/d) + 20 + math.E
}

// Rosenbrock is Σ 100(xᵢ₊₁ − xᵢ²)² + (xᵢ − 1)².
func Rosenbrock(x []float64) float64 {
	s := 0.0
	for i := 0; i+1 < len(x); i++ {
		a := x[i+1] - x[i]*x[i]
		b := x[i] - 1
		s += 100*a*a + b*b
	}
	return s
}

// Levy is sin²(πw₁) + Σᵢ₌₁^{d−1} (wᵢ−1)²[1 + 10 sin²(πwᵢ+1)] +
// (w_d−1)²[1 + sin²(2πw_d)] with wᵢ = 1 + (xᵢ−1)/4.
func Levy(x []float64) float64 {
	w := func(i int) float64 { return 1 + (x[i]-1)/4 }
	d := len(x)
	s1 := math.Sin(math.Pi * w(0))
	s := s1 * s1
	for i := 0; i < d-1; i++ {
		wi := w(i)
		si := math.Sin(math.Pi*wi + 1)
		s += (wi - 1) * (wi - 1) * (1 + 10*si*si)
	}
	wd := w(d - 1)
	sd := math.Sin(2 * math.Pi * wd)
	return s + (wd-1)*(wd-1)*(1+sd*sd)
}

// Rastrigin is 10d + Σ (xᵢ² − 10 cos(2πxᵢ)).
func Rastrigin(x []float64) float64 {
	s := 10 * float64(len(x))
	for _, v := range x {
		s += v*v - 10*math.Cos(2*math.Pi*v)
	}
	return s
}

// StyblinskiTang is ½ Σ (xᵢ⁴ − 16xᵢ² + 5xᵢ).
func StyblinskiTang(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		v2 := v * v
		s += v2*v2 - 16*v2 + 5*v
	}
	return s / 2
}

// Griewank is Σ xᵢ²/4000 − Π cos(xᵢ/√i) + 1.
func Griewank(x []float64) float64 {
	s, p := 0.0, 1.0
	for i, v := range x {
		s += v * v / 4000
		p *= math.Cos(v / math.Sqrt(float64(i+1)))
	}
	return s - p + 1
}

// SixHumpCamel is (4 − 2.1x₁² + x₁⁴/3)x₁² + x₁x₂ + (−4 + 4x₂²)x₂².
func SixHumpCamel(x []float64) float64 {
	checkDim("six-hump-camel", x, 2)
	a, b := x[0], x[1]
	a2, b2 := a*a, b*b
	return (4-2.1*a2+a2*a2/3)*a2 + a*b + (-4+4*b2)*b2
}

// GoldsteinPrice is [1 + (x₁+x₂+1)²(19 − 14x₁ + 3x₁² − 14x₂ + 6x₁x₂ + 3x₂²)] ·
// [30 + (2x₁−3x₂)²(18 − 32x₁ + 12x₁² + 48x₂ − 36x₁x₂ + 27x₂²)].
func GoldsteinPrice(x []float64) float64 {
	checkDim("goldstein-price", x, 2)
	a, b := x[0], x[1]
	s := a + b + 1
	t := 2*a - 3*b
	f1 := 1 + s*s*(19-14*a+3*a*a-14*b+6*a*b+3*b*b)
	f2 := 30 + t*t*(18-32*a+12*a*a+48*b-36*a*b+27*b*b)
	return f1 * f2
}

func checkDim(name string, x []float64, d int) {
	if len(x) != d {
		panic(fmt.Sprintf("functions: %s takes %d arguments, got %d", name, d, len(x)))
	}
}
