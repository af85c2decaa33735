// Package sgemm is olc's float32 matrix product for the build without C
// (no OpenBLAS), on processors with AVX-512: BLIS's scheme, with op(B)
// packed into panels of kc × sgNR values and op(A) into panels of sgMR ×
// kc, and a
// register-blocked micro-kernel in assembly (sgemm_amd64.s) that keeps a
// 12 × 32 tile of C in 24 of the 32 vector registers across the kc rank-1
// updates. Go's SIMD package (GOEXPERIMENT=simd in Go 1.26) was tried
// first: its compiler uses 16 of the registers and a shuffle per
// broadcast, and its 6 × 32 kernel reached a third of this one's rate.
package sgemm

import (
	"sync"

	"github.com/olc-toolkit/olc/internal/parallel"
)

// The blocking: the micro-kernel's tile and the packed blocks.
const (
	sgMR = 12
	sgNR = 32
	sgKC = 256
	sgMC = 96   // rows of A packed at a time, a multiple of sgMR
	sgNC = 2048 // columns of B packed at a time, a multiple of sgNR
)

// sgemmPool holds packing buffers.
var sgemmPool = sync.Pool{New: func() any { return new([]float32) }}

func getBuf(n int) *[]float32 {
	p := sgemmPool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// Available reports whether this processor runs the AVX-512 kernel (and
// the build has it: amd64, without the purego tag). Gemm runs anywhere,
// but without it at the speed of plain Go.
func Available() bool { return available }

var available = false

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// op(X) = Xᵀ when the flag says so, on workers goroutines (the calling one
// alone for small products).
func Gemm(workers int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if beta != 1 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else {
				for j := range row {
					row[j] *= beta
				}
			}
		}
	}
	if k == 0 || alpha == 0 {
		return
	}
	// Small products run on the calling goroutine: the attention's
	// blocks, already spread over the cores by their caller.
	if 2*m*n*k < 1<<22 {
		workers = 1
	}
	for jc := 0; jc < n; jc += sgNC {
		nc := min(sgNC, n-jc)
		np := (nc + sgNR - 1) / sgNR
		for pc := 0; pc < k; pc += sgKC {
			kc := min(sgKC, k-pc)
			bbuf := getBuf(np * kc * sgNR)
			packB(tB, b, ldb, pc, kc, jc, nc, *bbuf)
			mb := (m + sgMC - 1) / sgMC
			// Tasks of (block of rows, group of column panels), so that a
			// few rows still keep every core busy.
			per := max(1, min(np, 8))
			if workers > 1 && mb < 2*workers {
				per = max(1, np/(2*workers/mb+1))
			}
			ng := (np + per - 1) / per
			parallel.ForN(workers, mb*ng, func(t int) {
				ib, g := t/ng, t%ng
				i0 := ib * sgMC
				mc := min(sgMC, m-i0)
				mp := (mc + sgMR - 1) / sgMR
				abuf := getBuf(mp * kc * sgMR)
				defer sgemmPool.Put(abuf)
				ap := *abuf
				packA(tA, a, lda, i0, mc, pc, kc, ap)
				var tile [sgMR * sgNR]float32
				for jp := g * per; jp < min(np, (g+1)*per); jp++ {
					j0 := jc + jp*sgNR
					cols := min(sgNR, n-j0)
					for ip := range mp {
						r0 := i0 + ip*sgMR
						rows := min(sgMR, m-r0)
						if rows == sgMR && cols == sgNR && sgemmKernelC != nil {
							sgemmKernelC(kc, ap[ip*kc*sgMR:], (*bbuf)[jp*kc*sgNR:], c[r0*ldc+j0:], ldc, alpha)
							continue
						}
						sgemmKernel(kc, ap[ip*kc*sgMR:], (*bbuf)[jp*kc*sgNR:], &tile)
						addTile(&tile, rows, cols, alpha, c[r0*ldc+j0:], ldc)
					}
				}
			})
			sgemmPool.Put(bbuf)
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into panels of sgNR columns, each
// kc rows of sgNR values, zero past the last column.
func packB(tB bool, b []float32, ldb, pc, kc, jc, nc int, dst []float32) {
	for jp := 0; jp*sgNR < nc; jp++ {
		panel := dst[jp*kc*sgNR : (jp+1)*kc*sgNR]
		j0 := jc + jp*sgNR
		cols := min(sgNR, jc+nc-j0)
		if !tB {
			for p := range kc {
				row := panel[p*sgNR : (p+1)*sgNR]
				copy(row, b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+cols])
				clear(row[cols:])
			}
			continue
		}
		if cols < sgNR {
			clear(panel)
		}
		for c := range cols {
			src := b[(j0+c)*ldb+pc : (j0+c)*ldb+pc+kc]
			for p, v := range src {
				panel[p*sgNR+c] = v
			}
		}
	}
}

// packA copies op(A)[i0:i0+mc, pc:pc+kc] into panels of sgMR rows, each kc
// columns of sgMR values, zero past the last row.
func packA(tA bool, a []float32, lda, i0, mc, pc, kc int, dst []float32) {
	for ip := 0; ip*sgMR < mc; ip++ {
		panel := dst[ip*kc*sgMR : (ip+1)*kc*sgMR]
		r0 := i0 + ip*sgMR
		rows := min(sgMR, i0+mc-r0)
		if rows < sgMR {
			clear(panel)
		}
		if tA {
			for p := range kc {
				copy(panel[p*sgMR:p*sgMR+rows], a[(pc+p)*lda+r0:(pc+p)*lda+r0+rows])
			}
			continue
		}
		for r := range rows {
			src := a[(r0+r)*lda+pc : (r0+r)*lda+pc+kc]
			for p, v := range src {
				panel[p*sgMR+r] = v
			}
		}
	}
}

// addTile adds alpha·tile's first rows × cols values into C.
func addTile(tile *[sgMR * sgNR]float32, rows, cols int, alpha float32, c []float32, ldc int) {
	for r := range rows {
		axpy(alpha, tile[r*sgNR:r*sgNR+cols], c[r*ldc:r*ldc+cols])
	}
}

// sgemmKernel computes the sgMR × sgNR tile of the product of a packed
// panel of A and one of B over kc into out: the assembly kernel where the
// processor has AVX-512, else sgemmKernelGo (which olc does not run: its
// model calls Gemm only when Available; tests check the packing with it
// everywhere).
var sgemmKernel = sgemmKernelGo

// sgemmKernelC, where not nil, adds alpha times a whole tile into C
// directly (the assembly kernel); edge tiles go through sgemmKernel.
var sgemmKernelC func(kc int, ap, bp, c []float32, ldc int, alpha float32)

// sgemmKernelGo is the micro-kernel in plain Go.
func sgemmKernelGo(kc int, ap, bp []float32, out *[sgMR * sgNR]float32) {
	clear(out[:])
	for p := range kc {
		a, b := ap[p*sgMR:(p+1)*sgMR], bp[p*sgNR:(p+1)*sgNR]
		for r, av := range a {
			axpy(av, b, out[r*sgNR:(r+1)*sgNR])
		}
	}
}

// axpy adds alpha·x to y.
func axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}
