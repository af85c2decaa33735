// Package optimize defines search spaces and the samplers that propose points
// in them: grid search ([Grid]), random search ([Random], pseudo-random or
// scrambled Halton quasi-random) and Bayesian optimization ([Bayes], a
// Gaussian-process surrogate from package [github.com/olc-toolkit/olc/optimize/gp]
// with the UCB, EI or PI acquisition).
//
// The package is pure: a [Sampler] proposes parameters from a study's
// history and never runs anything. Running trials, storing them and
// resuming studies is the job of package
// [github.com/olc-toolkit/olc/experiments].
//
// A [Space] is an ordered list of parameters. Each parameter is a float
// (with optional log scale, step or grid points), an int (optional log
// scale or step) or a categorical choice among values. Samplers map points
// of the unit cube to parameters through [Space.FromUnit], so a new sampler
// needs only to choose points in [0, 1)^d.
//
// # Options
//
// olc's packages name their option structs one way: Options for the
// options of a package's main function (scaling.Options for scaling.Fit,
// model.Options for a forward pass), <Name>Options when a package has
// several ([BayesOptions], gp.FitOptions, train.QAOptions,
// experiments.OptimizeOptions), and Config only for what is read from a
// config file (experiments.Config, train.Config, model.Config). Where a
// zero is a meaningful value of some field (a UCB weight κ of 0, no
// bootstrap), the package offers Default<Name>Options, or DefaultOptions,
// and uses every field as given, as [gp.DefaultPrior] gives the priors:
// [DefaultBayesOptions] here, scaling.DefaultOptions for fits. Elsewhere
// the zero value of an options struct is valid and each field documents
// what its zero means. Outcomes that callers compare are typed, as gonum's
// optimize.Status is (train.StopReason).
package optimize
