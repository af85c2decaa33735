// Package scaling fits scaling laws to the results of training runs, with
// bootstrap intervals, compute-optimal allocation and extrapolation checks.
//
// # Laws
//
// A [Law] is a parametric model of the loss as a function of one or two
// variables (model size N, data D, compute, context length c). Each law is
// fitted in log space: the residual of point i is log L̂(x_i; θ) − log L_i,
// and θ holds the positive parameters as logarithms, so that sums of power
// laws are evaluated with a stable log-sum-exp. The laws are
//
//   - chinchilla: L(N, D) = E + A/N^α + B/D^β (Hoffmann et al. 2022,
//     "Training Compute-Optimal Large Language Models", Approach 3);
//   - kaplan: L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D, and its one-variable
//     forms kaplan-n, L(N) = (N_c/N)^α_N, and kaplan-d, L(D) = (D_c/D)^α_D
//     (Kaplan et al. 2020, "Scaling Laws for Neural Language Models");
//   - power: L(x) = E + A·x^(−α), and power2: L(x) = A·x^(−α), for any one
//     variable;
//   - context: L(c) = (α/c)^β + γ (Xiong et al. 2023, "Effective
//     Long-Context Scaling of Foundation Models", Eq. 1).
//
// # Fitting
//
// [Fit] follows Hoffmann et al.'s Approach 3 as Besiroglu et al. 2024
// ("Chinchilla Scaling: A replication attempt") redid it: the Huber loss
// (δ = 1e-3 by default) of the log residuals, or plain least squares,
// minimized by L-BFGS from every point of a grid of starts (for chinchilla
// Hoffmann's 4,500-point grid), run in parallel, keeping the best. The
// optimizer runs to a tight gradient tolerance and reports the winning
// start's gradient norm and iteration count, so that a fit stopped early
// cannot pass unnoticed. Parameter uncertainty comes from a nonparametric
// bootstrap over rows (1,000 resamples by default), each refitted from the
// full-data estimate and the best distinct optima of the grid: standard
// errors and 95% percentile intervals for every parameter and every derived
// quantity (compute-optimal exponents and allocations). [DefaultOptions]
// holds these defaults; [ReadCSV] and [ReadRecords] read the points from
// a table or a study's runs, and [TrainingFLOPs] is the one conversion C = 6·N·D.
//
// Costs: one objective evaluation is O(n) for n points; a grid fit is
// O(starts × iterations × n), spread over all cores.
package scaling
