// Package ablation plans, runs and analyses ablation studies: every variant
// (the base with one component removed or added, or every on/off
// combination) over several seeds, paired by seed.
//
// This file set holds the statistics: the paired t-test with its interval
// ([PairedTest]), the Wilcoxon signed-rank test ([WilcoxonSignedRank],
// exact for small untied samples), Holm's step-down adjustment ([Holm])
// and the number of seeds a paired comparison needs ([SeedsNeeded]). Each
// is checked against published values in the tests. What gonum provides
// (means, standard deviations, the t and normal distributions) comes from
// gonum.
package ablation
