package model

// ForwardFLOPs counts the floating-point operations of a forward pass of
// the encoder over n tokens, g of them global, with the reference page's
// formula per layer: projections 8nd² (plus 4nd² for the global keys and
// values and 2gd² for the global queries when there are global tokens),
// feed-forward 4ndI (16nd² at I = 4d), banded attention 4n(2w+1)d for the
// one-sided window w, and global attention 8ngd.
func ForwardFLOPs(cfg Config, n, g int) float64 {
	d, I := float64(cfg.HiddenSize), float64(cfg.IntermediateSize)
	N, G := float64(n), float64(g)
	total := 0.0
	for l := range cfg.NumHiddenLayers {
		w := float64(cfg.Window(l) / 2)
		f := 8*N*d*d + 4*N*(2*w+1)*d
		if cfg.FeedForward {
			f += 4 * N * d * I
		}
		if g > 0 && cfg.GlobalAttention {
			if cfg.SeparateGlobalProjections {
				f += 4*N*d*d + 2*G*d*d
			}
			f += 8 * N * G * d
		}
		total += f
	}
	return total
}
