package model

import "github.com/olc-toolkit/olc/internal/amx"

// bandTiles holds a layer's queries (scaled), keys and values rounded to
// bfloat16 and packed for the tile unit once, head by head, so that the
// blocks of local queries multiply ranges of them without packing the
// keys and values again for each of the (block + w)/block blocks whose
// bands reach them.
type bandTiles struct {
	q    []*amx.Packed
	k, v []*amx.PackedB
	dh   int
}

// useBandTiles lets bfloat16 attention pack its factors once a layer;
// tests turn it off to compare with packing them block by block.
var useBandTiles = true

// newBandTiles packs in's Q, K and V when its products run in bfloat16 and
// the blocks and bands fall on the tiles (blocks and w/2 multiples of 32);
// it returns nil otherwise, and the blocks go through gemm.
func newBandTiles[T Float](in *AttnInput[T], block int, scale T) *bandTiles {
	q, ok := any(in.Q).([]float32)
	if !ok || !useBandTiles || !in.BF16 || !amx.Available() || block%32 != 0 || in.HalfWindow%32 != 0 ||
		!in.exec().tiles(block, block+2*in.HalfWindow, in.HeadDim) {
		return nil
	}
	k, v := any(in.K).([]float32), any(in.V).([]float32)
	n, H, dh, w := in.N, in.Heads, in.HeadDim, in.workers()
	D := H * dh
	t := &bandTiles{q: make([]*amx.Packed, H), k: make([]*amx.PackedB, H), v: make([]*amx.PackedB, H), dh: dh}
	for h := range H {
		t.q[h] = amx.PackA(w, false, n, dh, float32(scale), q[h*dh:], D)
		t.k[h] = amx.PackB(w, true, dh, n, k[h*dh:], D)
		t.v[h] = amx.PackB(w, false, n, dh, v[h*dh:], D)
	}
	return t
}

// scores sets S (rows × K) to head h's scaled scores of the queries from
// i0 for the keys from k0.
func scores[T Float](t *bandTiles, h, i0, rows, k0, K int, S []T) {
	amx.MulPacked(t.q[h], i0, rows, t.k[h], 0, k0, K, any(S).([]float32), K)
}

// output sets the rows of out (ldo apart, its first dh columns) to P
// (rows × K: probabilities for the keys from k0) times head h's values.
func output[T Float](t *bandTiles, h, rows, k0, K int, P, out []T, ldo int) {
	pa := amx.PackA(1, false, rows, K, 1, any(P).([]float32), K)
	amx.MulPacked(pa, 0, rows, t.v[h], k0, 0, t.dh, any(out).([]float32), ldo)
	pa.Release()
}

func (t *bandTiles) release() {
	for h := range t.q {
		t.q[h].Release()
		t.k[h].Release()
		t.v[h].Release()
	}
}
