package scaling

// FLOPsPerParamToken is the training compute of a transformer per
// parameter and token, forward and backward passes together: C ≈ 6·N·D
// (Kaplan et al. 2020, §2.1). Every conversion between compute and tokens
// in olc goes through it.
const FLOPsPerParamToken = 6

// TrainingFLOPs returns the training compute C = 6·N·D of n parameters
// trained on d tokens.
func TrainingFLOPs(n, d float64) float64 { return FLOPsPerParamToken * n * d }

// TokensFromFLOPs returns the tokens D = C/(6·N) that c FLOPs train n
// parameters on.
func TokensFromFLOPs(c, n float64) float64 { return c / (FLOPsPerParamToken * n) }
