package scaling

import (
	"math"
	"testing"
)

func TestTrainingFLOPs(t *testing.T) {
	// Chinchilla: 70e9 parameters on 1.4e12 tokens, 6ND = 5.88e23 FLOPs.
	if c := TrainingFLOPs(70e9, 1.4e12); math.Abs(c/5.88e23-1) > 1e-12 {
		t.Errorf("TrainingFLOPs(70e9, 1.4e12) = %g, want 5.88e23", c)
	}
	for _, nd := range [][2]float64{{1e6, 2e7}, {3.3e8, 7e9}, {70e9, 1.4e12}} {
		n, d := nd[0], nd[1]
		if got := TokensFromFLOPs(TrainingFLOPs(n, d), n); math.Abs(got/d-1) > 1e-15 {
			t.Errorf("TokensFromFLOPs(TrainingFLOPs(%g, %g)) = %g", n, d, got)
		}
	}
}
