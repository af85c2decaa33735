// Package optimize defines search spaces and the samplers that propose points
// in them: grid search, random search (pseudo-random or scrambled Halton
// quasi-random), and later Bayesian optimization.
//
// The package is pure: a Sampler proposes parameters from a study's history
// and never runs anything. Running trials, storing them and resuming studies
// is the job of package experiments.
//
// A Space is an ordered list of parameters. Each parameter is a float (with
// optional log scale, step or grid points), an int (optional log scale or
// step) or a categorical choice among values. Samplers map points of the unit
// cube to parameters through Space.FromUnit, so a new sampler needs only to
// choose points in [0, 1)^d.
package optimize
