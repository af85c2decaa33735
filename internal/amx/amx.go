// Package amx multiplies float32 matrices in bfloat16 on Intel's AMX tile
// unit (Sapphire Rapids and later): the factors are rounded to bfloat16
// as they are packed into tiles, the products summed in float32 by
// TDPBF16PS, 16 × 16 × 32 multiply-adds an instruction.
//
// Each task takes a 32 × 32 block of C in four tiles and runs over k in
// chunks of 32; A is packed by blocks of 32 rows, alpha folded in, and B by
// blocks of 32 columns with each pair of k interleaved, as the
// instruction reads them. Linux must grant the process the tile state
// (arch_prctl, Linux 5.16 and later); Available says whether it did.
package amx

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/olc-toolkit/olc/internal/parallel"
)

// Available reports whether the tile unit runs here.
func Available() bool { return available }

// Unavailable says why the tile unit does not run here ("" when it does).
func Unavailable() string { return unavailable }

// ToBF16 rounds x to bfloat16, to nearest with ties to even (NaN stays a
// quiet NaN).
func ToBF16(x float32) uint16 {
	u := math.Float32bits(x)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// FromBF16 widens a bfloat16 to float32 (exactly).
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// packPool holds packing buffers.
var packPool = sync.Pool{New: func() any { return new([]uint16) }}

// getBuf returns a buffer of n values from the pool, zeroed when zero is
// set.
func getBuf(n int, zero bool) *[]uint16 {
	p := packPool.Get().(*[]uint16)
	if cap(*p) < n {
		*p = make([]uint16, n)
		zero = false
	}
	*p = (*p)[:n]
	if zero {
		clear(*p)
	}
	return p
}

// tileCfg configures palette 1 with eight tiles of 16 rows of 64 bytes.
var tileCfg = func() (c [64]byte) {
	c[0] = 1
	for t := range 8 {
		binary.LittleEndian.PutUint16(c[16+2*t:], 64)
		c[48+t] = 16
	}
	return c
}()

// chunk is the bfloat16 values one block's chunk of 32 of k takes: two
// tiles of 16 × 32.
const chunk = 1024

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, op(X) = Xᵀ when the flag says so, with op(A) and op(B)
// rounded to bfloat16 (alpha·A rounded as one) and the products summed in
// float32, on workers goroutines. It panics where the tile unit is not
// available.
func Gemm(workers int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(workers, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, nil, c, ldc)
}

// GemmBias computes C = op(A)·op(B) + bias, the bias (n values) added to
// every row, as Gemm does with alpha 1: the tiles of C start from the
// bias (loaded with a row stride of 0), so C is neither read nor cleared
// first: a linear layer's product and bias in one pass.
func GemmBias(workers int, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, c []float32, ldc int) {
	_ = bias[n-1]
	gemm(workers, tA, tB, m, n, k, 1, a, lda, b, ldb, 0, bias, c, ldc)
}

func gemm(workers int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, bias, c []float32, ldc int) {
	if !available {
		panic("amx: " + unavailable)
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleRows(workers, m, n, beta, c, ldc)
		if bias != nil {
			for i := range m {
				copy(c[i*ldc:i*ldc+n], bias)
			}
		}
		return
	}
	if beta != 0 && beta != 1 {
		scaleRows(workers, m, n, beta, c, ldc)
	}
	if 2*m*n*k < 1<<22 {
		workers = 1 // small: the attention's blocks, spread by their caller
	}
	pa := PackA(workers, tA, m, k, alpha, a, lda)
	defer pa.Release()
	pa.times(workers, tB, n, b, ldb, beta, bias, c, ldc)
}

// Packed is op(A) rounded and packed for the tile unit, for several
// products with the same left factor (a layer's input times its query,
// key and value weights).
type Packed struct {
	buf       *[]uint16
	m, k, kch int
}

// PackA rounds alpha·op(A) (m × k) to bfloat16 and packs it, on workers
// goroutines. Release gives its memory back.
func PackA(workers int, tA bool, m, k int, alpha float32, a []float32, lda int) *Packed {
	if !available {
		panic("amx: " + unavailable)
	}
	kch := (k + 31) / 32
	buf := packBlocks(workers, m, kch, k, func(t int, dst []uint16) { packA(tA, a, lda, m, k, alpha, t, dst) })
	return &Packed{buf: buf, m: m, k: k, kch: kch}
}

// packBlocks packs a factor's blocks of 32 rows (of A) or columns (of B),
// kch chunks of k each, by fill on workers goroutines, into a buffer from
// the pool. fill writes every value inside the factor; the padding past n
// and k is zero.
func packBlocks(workers, n, kch, k int, fill func(t int, dst []uint16)) *[]uint16 {
	blocks := (n + 31) / 32
	buf := getBuf(blocks*kch*chunk, n%32 != 0 || k%32 != 0)
	b := *buf
	parallel.ForN(workers, blocks, func(t int) { fill(t, b[t*kch*chunk:(t+1)*kch*chunk]) })
	return buf
}

// Release returns the packed values' memory to a pool.
func (p *Packed) Release() { packPool.Put(p.buf) }

// GemmBiasPacked computes C = A·op(B) + bias for A packed by PackA (with
// alpha 1), as GemmBias does.
func GemmBiasPacked(workers int, pa *Packed, tB bool, n int, b []float32, ldb int, bias, c []float32, ldc int) {
	_ = bias[n-1]
	if n == 0 || pa.m == 0 {
		return
	}
	if pa.k == 0 {
		for i := range pa.m {
			copy(c[i*ldc:i*ldc+n], bias)
		}
		return
	}
	pa.times(workers, tB, n, b, ldb, 0, bias, c, ldc)
}

// times packs op(B) (k × n) and runs the tiles: C = A·op(B) + (bias, or
// beta·C with beta 0 or 1).
func (pa *Packed) times(workers int, tB bool, n int, b []float32, ldb int, beta float32, bias, c []float32, ldc int) {
	m, k, kch := pa.m, pa.k, pa.kch
	mb, nb := (m+31)/32, (n+31)/32
	bbuf := packBlocks(workers, n, kch, k, func(t int, dst []uint16) { packB(tB, b, ldb, n, k, t, dst) })
	defer packPool.Put(bbuf)
	ap, bp := *pa.buf, *bbuf
	// Tasks of one block of rows: the full blocks of 32 columns in one
	// call of the kernel (one tile configuration), the last partial one
	// through a buffer.
	full := n / 32
	parallel.ForN(workers, mb, func(ib int) {
		i0 := 32 * ib
		rows := min(32, m-i0)
		pa := &ap[ib*kch*chunk]
		if rows == 32 && full > 0 {
			var pbias *float32
			if bias != nil {
				pbias = &bias[0]
			}
			tileKernel(&tileCfg, kch, pa, &bp[0], &c[i0*ldc], 4*ldc, full, beta == 0, pbias, 2*kch*chunk)
		}
		for jb := range nb {
			j0 := 32 * jb
			cols := min(32, n-j0)
			if rows == 32 && cols == 32 {
				continue
			}
			var buf [32 * 32]float32
			for r := range rows {
				switch {
				case bias != nil:
					copy(buf[r*32:r*32+cols], bias[j0:j0+cols])
				case beta != 0:
					copy(buf[r*32:r*32+cols], c[(i0+r)*ldc+j0:(i0+r)*ldc+j0+cols])
				}
			}
			tileKernel(&tileCfg, kch, pa, &bp[jb*kch*chunk], &buf[0], 4*32, 1, false, nil, 2*kch*chunk)
			for r := range rows {
				copy(c[(i0+r)*ldc+j0:(i0+r)*ldc+j0+cols], buf[r*32:r*32+cols])
			}
		}
	})
}

// PackedB is op(B) rounded and packed for the tile unit as the right
// factor of products over ranges of its columns and of k (MulPacked): an
// attention layer's keys or values, packed once for every block of
// queries whose band reaches them.
type PackedB struct {
	buf       *[]uint16
	k, n, kch int
}

// PackB rounds op(B) (k × n) to bfloat16 and packs it, on workers
// goroutines. Release gives its memory back.
func PackB(workers int, tB bool, k, n int, b []float32, ldb int) *PackedB {
	if !available {
		panic("amx: " + unavailable)
	}
	kch := (k + 31) / 32
	buf := packBlocks(workers, n, kch, k, func(t int, dst []uint16) { packB(tB, b, ldb, n, k, t, dst) })
	return &PackedB{buf: buf, k: k, n: n, kch: kch}
}

// Release returns the packed values' memory to a pool.
func (p *PackedB) Release() { packPool.Put(p.buf) }

// MulPacked sets C (m × n) to rows [r0, r0+m) of A, packed by PackA,
// times rows [k0, k0+A's k) and columns [c0, c0+n) of B, packed by PackB,
// on the calling goroutine. r0, k0 and c0 must be multiples of 32; A's k
// may reach past B's, where A must be zero.
func MulPacked(pa *Packed, r0, m int, pb *PackedB, k0, c0, n int, c []float32, ldc int) {
	if r0%32 != 0 || k0%32 != 0 || c0%32 != 0 || r0+m > pa.m || c0+n > pb.n || k0 > pb.k {
		panic("amx: MulPacked: a range outside the packed factors, or not on the tiles")
	}
	if m == 0 || n == 0 {
		return
	}
	kch := min(pa.kch, pb.kch-k0/32)
	if kch <= 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	ap, bp := *pa.buf, *pb.buf
	stride := 2 * pb.kch * chunk // bytes from one block of 32 columns of B to the next
	cb0, full := c0/32, n/32
	for ib := r0 / 32; ib < (r0+m+31)/32; ib++ {
		i0 := 32*ib - r0
		rows := min(32, m-i0)
		a := &ap[ib*pa.kch*chunk]
		if rows == 32 && full > 0 {
			_ = c[(i0+31)*ldc+32*full-1] // the kernel writes 32 rows of full blocks
			tileKernel(&tileCfg, kch, a, &bp[(cb0*pb.kch+k0/32)*chunk], &c[i0*ldc], 4*ldc, full, true, nil, stride)
		}
		for jb := range (n + 31) / 32 {
			j0 := 32 * jb
			cols := min(32, n-j0)
			if rows == 32 && cols == 32 {
				continue
			}
			var buf [32 * 32]float32
			tileKernel(&tileCfg, kch, a, &bp[((cb0+jb)*pb.kch+k0/32)*chunk], &buf[0], 4*32, 1, true, nil, stride)
			for r := range rows {
				copy(c[(i0+r)*ldc+j0:(i0+r)*ldc+j0+cols], buf[r*32:r*32+cols])
			}
		}
	}
}

// scaleRows multiplies C's m × n values by beta (0 clears them, NaN or
// not, as BLAS does).
func scaleRows(workers, m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	parallel.ForN(workers, m, func(i int) {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			return
		}
		for j := range row {
			row[j] *= beta
		}
	})
}

// packA rounds alpha·op(A)'s rows [32t, 32t+32) into dst: for each chunk
// of 32 values of k, two tiles of 16 rows × 32 values (zero past m and k,
// as dst comes). The vector routines take whole runs; the scalar loops
// the rest.
func packA(tA bool, a []float32, lda, m, k int, alpha float32, t int, dst []uint16) {
	rows := min(32, m-32*t)
	if !tA {
		full := k / 32
		for r := range rows {
			base := (r>>4)*512 + (r&15)*32
			src := a[(32*t+r)*lda : (32*t+r)*lda+k]
			if full > 0 {
				_ = dst[(full-1)*1024+base+31]
				cvtRuns(&dst[base], 1024, &src[0], 32, full, false, alpha)
			}
			for p := 32 * full; p < k; p++ {
				dst[(p>>5)*1024+base+p&31] = ToBF16(alpha * src[p])
			}
		}
		return
	}
	groups := rows / 16 // whole groups of 16 rows
	// Whole chunks of k for whole groups: transposed in registers, a
	// tile at a time.
	full := k / 32
	if groups > 0 && full > 0 {
		_ = a[(32*full-1)*lda+32*t+16*groups-1]
		for g := range groups {
			transRuns(&dst[g*512], &a[32*t+16*g], lda, full, alpha)
		}
		for p := range 32 * full {
			base := (p>>5)*1024 + p&31
			for r := 16 * groups; r < rows; r++ {
				dst[base+(r>>4)*512+(r&15)*32] = ToBF16(alpha * a[p*lda+32*t+r])
			}
		}
	}
	if groups == 0 {
		full = 0
	}
	// The rest of k: two values at a time, scattered.
	for p := 32 * full; p < k; p++ {
		r0 := 0
		if groups > 0 && p%2 == 0 && p+1 < k {
			_, _ = a[p*lda+32*t+16*groups-1], a[(p+1)*lda+32*t+16*groups-1]
			pairRuns(&dst[(p>>5)*1024+p&31], 512, &a[p*lda+32*t], &a[(p+1)*lda+32*t], 16, groups, true, alpha)
			for q := p; q <= p+1; q++ {
				base := (q>>5)*1024 + q&31
				for r := 16 * groups; r < rows; r++ {
					dst[base+(r>>4)*512+(r&15)*32] = ToBF16(alpha * a[q*lda+32*t+r])
				}
			}
			p++
			continue
		}
		base := (p>>5)*1024 + p&31
		for r := r0; r < rows; r++ {
			dst[base+(r>>4)*512+(r&15)*32] = ToBF16(alpha * a[p*lda+32*t+r])
		}
	}
}

// packB rounds op(B)'s columns [32t, 32t+32) into dst: for each chunk of
// 32 values of k, two tiles of 16 pairs of k × 16 columns, each pair's
// two values side by side (zero past n and k, as dst comes).
func packB(tB bool, b []float32, ldb, n, k int, t int, dst []uint16) {
	cols := min(32, n-32*t)
	if tB {
		full := k / 32
		// Whole groups of 16 columns over whole chunks of k: transposed
		// in registers, a tile at a time; the other columns one by one.
		c0 := 0
		if groups := cols / 16; groups > 0 && full > 0 {
			_ = b[(32*t+16*groups-1)*ldb+32*full-1]
			for g := range groups {
				transRunsB(&dst[g*512], &b[(32*t+16*g)*ldb], ldb, full)
			}
			for c := range 16 * groups {
				base := (c>>4)*512 + 2*(c&15)
				src := b[(32*t+c)*ldb : (32*t+c)*ldb+k]
				for p := 32 * full; p < k; p++ {
					dst[(p>>5)*1024+base+((p&31)>>1)*32+p&1] = ToBF16(src[p])
				}
			}
			c0 = 16 * groups
		}
		for c := c0; c < cols; c++ {
			base := (c>>4)*512 + 2*(c&15)
			src := b[(32*t+c)*ldb : (32*t+c)*ldb+k]
			if full > 0 {
				_ = dst[(full-1)*1024+base+15*32+1]
				cvtRuns(&dst[base], 1024, &src[0], 32, full, true, 1)
			}
			for p := 32 * full; p < k; p++ {
				dst[(p>>5)*1024+base+((p&31)>>1)*32+p&1] = ToBF16(src[p])
			}
		}
		return
	}
	groups := cols / 16
	for p := 0; p < k; p++ {
		if groups > 0 && p%2 == 0 && p+1 < k {
			_, _ = b[p*ldb+32*t+16*groups-1], b[(p+1)*ldb+32*t+16*groups-1]
			pairRuns(&dst[(p>>5)*1024+((p&31)>>1)*32], 512, &b[p*ldb+32*t], &b[(p+1)*ldb+32*t], 16, groups, false, 1)
			for q := p; q <= p+1; q++ {
				base := (q>>5)*1024 + ((q&31)>>1)*32 + q&1
				for c := 16 * groups; c < cols; c++ {
					dst[base+(c>>4)*512+2*(c&15)] = ToBF16(b[q*ldb+32*t+c])
				}
			}
			p++
			continue
		}
		base := (p>>5)*1024 + ((p&31)>>1)*32 + p&1
		for c := range cols {
			dst[base+(c>>4)*512+2*(c&15)] = ToBF16(b[p*ldb+32*t+c])
		}
	}
}
