// Package gp is the Gaussian-process surrogate of Bayesian optimization:
// a Matérn 5/2 kernel with one lengthscale per dimension (ARD), a signal
// variance and a noise variance, fitted by maximizing the log marginal
// likelihood plus weak priors, and the acquisition functions (log-EI, PI,
// UCB) with their gradients.
//
// Inputs are points of the unit cube, one coordinate per dimension, except
// categorical dimensions, which hold a choice's index and enter the kernel
// through the Hamming distance: two points differ in a categorical
// dimension by 1/ℓ² in the squared distance when their choices differ
// (as Optuna's GPSampler and Ru et al. 2020, "Bayesian optimisation over
// multiple continuous and categorical inputs", ICML, do). Outputs are
// expected standardized (mean 0, variance 1); the model's prior mean is 0.
//
// References:
//   - C. E. Rasmussen and C. K. I. Williams (2006), Gaussian Processes for
//     Machine Learning, MIT Press: the kernel (eq. 4.17), the posterior
//     (algorithm 2.1) and the marginal-likelihood gradient (eq. 5.9).
//   - C. Hvarfner, E. O. Hellsten and L. Nardi (2024), Vanilla Bayesian
//     Optimization Performs Great in High Dimensions, ICML: the
//     dimension-scaled lengthscale prior and the noise prior.
//   - S. Ament, S. Daulton, D. Eriksson, M. Balandat and E. Bakshy (2023),
//     Unexpected Improvements to Expected Improvement for Bayesian
//     Optimization, NeurIPS: log-EI computed without underflow.
//
// Costs for n observations in d dimensions: a marginal-likelihood
// evaluation with its gradient is O(n³) (a Cholesky factorization and the
// inverse) plus O(n²d); a prediction is O(nd + n²); conditioning on one
// more point (Condition) is O(n²).
package gp
