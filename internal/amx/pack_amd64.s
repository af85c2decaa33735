//go:build amd64 && !purego

#include "textflag.h"

// The scatters' offsets: lane i at 64·i bytes, counted in dwords.
DATA scatteridx<>+0(SB)/4, $0
DATA scatteridx<>+4(SB)/4, $16
DATA scatteridx<>+8(SB)/4, $32
DATA scatteridx<>+12(SB)/4, $48
DATA scatteridx<>+16(SB)/4, $64
DATA scatteridx<>+20(SB)/4, $80
DATA scatteridx<>+24(SB)/4, $96
DATA scatteridx<>+28(SB)/4, $112
DATA scatteridx<>+32(SB)/4, $128
DATA scatteridx<>+36(SB)/4, $144
DATA scatteridx<>+40(SB)/4, $160
DATA scatteridx<>+44(SB)/4, $176
DATA scatteridx<>+48(SB)/4, $192
DATA scatteridx<>+52(SB)/4, $208
DATA scatteridx<>+56(SB)/4, $224
DATA scatteridx<>+60(SB)/4, $240
GLOBL scatteridx<>(SB), RODATA|NOPTR, $64

// VPERMW's indices that interleave two rows of 16 bfloat16s: word 2i
// takes the first row's i, word 2i + 1 the second's.
DATA pairidx<>+0(SB)/8, $0x0011000100100000
DATA pairidx<>+8(SB)/8, $0x0013000300120002
DATA pairidx<>+16(SB)/8, $0x0015000500140004
DATA pairidx<>+24(SB)/8, $0x0017000700160006
DATA pairidx<>+32(SB)/8, $0x0019000900180008
DATA pairidx<>+40(SB)/8, $0x001b000b001a000a
DATA pairidx<>+48(SB)/8, $0x001d000d001c000c
DATA pairidx<>+56(SB)/8, $0x001f000f001e000e
GLOBL pairidx<>(SB), RODATA|NOPTR, $64

// CVTPAIR(z) rounds the 16 float32s in Z16 and the 16 in Z17 to bfloat16
// (to nearest even by VCVTNE2PS2BF16, subnormals as zero) and sets z to
// their 16 pairs, Z16's value in each pair's low half (VPERMW with the
// indices of pairidx in Z19). Clobbers Z16.
#define CVTPAIR(z) \
	BYTE $0x62; BYTE $0xa2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xc0; \
	VPERMW Z16, Z19, z

// func cvtRuns(dst *uint16, dstStep int, src *float32, srcStep, runs int, scatter bool, alpha float32)
//
// For each of runs runs: the 32 float32s at src, times alpha, rounded to
// bfloat16 (to nearest even by VCVTNE2PS2BF16, which also takes
// subnormals as zero), into the 32 uint16s at dst, or (scatter) as 16 pairs of
// uint16 64 bytes apart; then src += srcStep floats, dst += dstStep
// uint16s.
TEXT ·cvtRuns(SB), NOSPLIT, $0-48
	VBROADCASTSS alpha+44(FP), Z28
	MOVQ dst+0(FP), DI
	MOVQ dstStep+8(FP), DX
	SHLQ $1, DX
	MOVQ src+16(FP), SI
	MOVQ srcStep+24(FP), R8
	SHLQ $2, R8
	MOVQ runs+32(FP), CX
	MOVBLZX scatter+40(FP), R9
	VMOVDQU32 scatteridx<>(SB), Z24
	TESTQ CX, CX
	JEQ cdone
cloop:
	VMULPS (SI), Z28, Z0
	VMULPS 64(SI), Z28, Z1
	// Z0's 16 rounded to bfloat16 in the low half, Z1's in the high one.
	BYTE $0x62; BYTE $0xf2; BYTE $0x77; BYTE $0x48; BYTE $0x72; BYTE $0xc0 // VCVTNE2PS2BF16 Z0, Z1, Z0 (AVX512-BF16)
	TESTQ R9, R9
	JNE cscatter
	VMOVDQU32 Z0, (DI)
	JMP cnext
cscatter:
	KXNORW K1, K1, K1
	VPSCATTERDD Z0, K1, (DI)(Z24*4)
cnext:
	ADDQ R8, SI
	ADDQ DX, DI
	DECQ CX
	JNE cloop
cdone:
	VZEROUPPER
	RET

// func pairRuns(dst *uint16, dstStep int, lo, hi *float32, srcStep, runs int, scatter bool, alpha float32)
//
// For each of runs runs: the 16 float32s at lo and the 16 at hi, times
// alpha, rounded to bfloat16 and paired (lo's in the low uint16 of each
// pair, by CVTPAIR), as 16 pairs at dst side by side, or (scatter) 64 bytes apart;
// then lo, hi += srcStep floats, dst += dstStep uint16s.
TEXT ·pairRuns(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+52(FP), Z18
	VMOVDQU16 pairidx<>(SB), Z19
	MOVQ dst+0(FP), DI
	MOVQ dstStep+8(FP), DX
	SHLQ $1, DX
	MOVQ lo+16(FP), SI
	MOVQ hi+24(FP), BX
	MOVQ srcStep+32(FP), R8
	SHLQ $2, R8
	MOVQ runs+40(FP), CX
	MOVBLZX scatter+48(FP), R9
	VMOVDQU32 scatteridx<>(SB), Z24
	TESTQ CX, CX
	JEQ pdone
ploop:
	VMULPS (SI), Z18, Z16
	VMULPS (BX), Z18, Z17
	CVTPAIR(Z0)
	TESTQ R9, R9
	JNE pscatter
	VMOVDQU32 Z0, (DI)
	JMP pnext
pscatter:
	KXNORW K1, K1, K1
	VPSCATTERDD Z0, K1, (DI)(Z24*4)
pnext:
	ADDQ R8, SI
	ADDQ R8, BX
	ADDQ DX, DI
	DECQ CX
	JNE ploop
pdone:
	VZEROUPPER
	RET


// PAIR(z) rounds the rows at SI and SI + R9 (16 float32s each, times
// alpha in Z18) to bfloat16 and sets z to their 16 pairs (the first row's
// value in each pair's low half), then moves SI down two rows (R8 bytes).
// Clobbers Z16, Z17.
#define PAIR(z) \
	VMULPS (SI), Z18, Z16; \
	VMULPS (SI)(R9*1), Z18, Z17; \
	CVTPAIR(z); \
	ADDQ R8, SI

// TRANS4(c) finishes the transpose for the columns c, c + 4, c + 8 and
// c + 12: their rows of four 4-value groups, in Z(4c)…Z(4c+3), become the
// four rows at DI + 64·column (Z20–Z23 in between).
#define TRANS4(u0, u1, u2, u3, c) \
	VSHUFI32X4 $0x88, u1, u0, Z20; \
	VSHUFI32X4 $0xdd, u1, u0, Z21; \
	VSHUFI32X4 $0x88, u3, u2, Z22; \
	VSHUFI32X4 $0xdd, u3, u2, Z23; \
	VSHUFI32X4 $0x88, Z22, Z20, u0; \
	VSHUFI32X4 $0xdd, Z22, Z20, u2; \
	VSHUFI32X4 $0x88, Z23, Z21, u1; \
	VSHUFI32X4 $0xdd, Z23, Z21, u3; \
	VMOVDQU32 u0, (64*(c))(DI); \
	VMOVDQU32 u1, (64*((c)+4))(DI); \
	VMOVDQU32 u2, (64*((c)+8))(DI); \
	VMOVDQU32 u3, (64*((c)+12))(DI)

// TRANSPOSE16 transposes the 16 × 16 dwords in Z0…Z15 (row i in Zi) and
// stores row i of the transpose at DI + 64·i: dwords within 128-bit lanes
// (row pairs into Z16…Z31), then qwords (for rows 4g…4g+3, each lane's
// values at column offset c into Z(4c+g)), then 128-bit lanes (TRANS4).
#define TRANSPOSE16 \
	VPUNPCKLDQ Z1, Z0, Z16; \
	VPUNPCKHDQ Z1, Z0, Z17; \
	VPUNPCKLDQ Z3, Z2, Z18; \
	VPUNPCKHDQ Z3, Z2, Z19; \
	VPUNPCKLDQ Z5, Z4, Z20; \
	VPUNPCKHDQ Z5, Z4, Z21; \
	VPUNPCKLDQ Z7, Z6, Z22; \
	VPUNPCKHDQ Z7, Z6, Z23; \
	VPUNPCKLDQ Z9, Z8, Z24; \
	VPUNPCKHDQ Z9, Z8, Z25; \
	VPUNPCKLDQ Z11, Z10, Z26; \
	VPUNPCKHDQ Z11, Z10, Z27; \
	VPUNPCKLDQ Z13, Z12, Z28; \
	VPUNPCKHDQ Z13, Z12, Z29; \
	VPUNPCKLDQ Z15, Z14, Z30; \
	VPUNPCKHDQ Z15, Z14, Z31; \
	VPUNPCKLQDQ Z18, Z16, Z0; \
	VPUNPCKHQDQ Z18, Z16, Z4; \
	VPUNPCKLQDQ Z19, Z17, Z8; \
	VPUNPCKHQDQ Z19, Z17, Z12; \
	VPUNPCKLQDQ Z22, Z20, Z1; \
	VPUNPCKHQDQ Z22, Z20, Z5; \
	VPUNPCKLQDQ Z23, Z21, Z9; \
	VPUNPCKHQDQ Z23, Z21, Z13; \
	VPUNPCKLQDQ Z26, Z24, Z2; \
	VPUNPCKHQDQ Z26, Z24, Z6; \
	VPUNPCKLQDQ Z27, Z25, Z10; \
	VPUNPCKHQDQ Z27, Z25, Z14; \
	VPUNPCKLQDQ Z30, Z28, Z3; \
	VPUNPCKHQDQ Z30, Z28, Z7; \
	VPUNPCKLQDQ Z31, Z29, Z11; \
	VPUNPCKHQDQ Z31, Z29, Z15; \
	TRANS4(Z0, Z1, Z2, Z3, 0); \
	TRANS4(Z4, Z5, Z6, Z7, 1); \
	TRANS4(Z8, Z9, Z10, Z11, 2); \
	TRANS4(Z12, Z13, Z14, Z15, 3)

// func transRuns(dst *uint16, src *float32, lda, chunks int, alpha float32)
//
// Packs 16 columns of a row-major float32 matrix (lda apart) as one tile
// of the transposed matrix for each of chunks chunks of 32 rows: tile row
// i holds column i's 32 values, rounded to bfloat16 (times alpha). Each
// chunk pairs its rows into 16 registers of 16 pairs, transposes them as
// 16 × 16 dwords in registers, and stores the 16 tile rows whole; then
// src moves down 32 rows, dst on 1024 uint16s (the next chunk's tile).
TEXT ·transRuns(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $2, R9 // one row, in bytes
	LEAQ (R9)(R9*1), R8 // two rows
	MOVQ chunks+24(FP), CX
	TESTQ CX, CX
	JEQ tdone
tloop:
	VBROADCASTSS alpha+32(FP), Z18
	VMOVDQU16 pairidx<>(SB), Z19
	PAIR(Z0)
	PAIR(Z1)
	PAIR(Z2)
	PAIR(Z3)
	PAIR(Z4)
	PAIR(Z5)
	PAIR(Z6)
	PAIR(Z7)
	PAIR(Z8)
	PAIR(Z9)
	PAIR(Z10)
	PAIR(Z11)
	PAIR(Z12)
	PAIR(Z13)
	PAIR(Z14)
	PAIR(Z15)
	TRANSPOSE16
	ADDQ $2048, DI
	DECQ CX
	JNE tloop
tdone:
	VZEROUPPER
	RET

// ROWB(z) rounds the 32 float32s at R10 to bfloat16 and sets z to them
// as 16 pairs (the pairs of k of one column of B), then moves R10 to the
// next row (R9 bytes). Clobbers Z16, Z17.
#define ROWB(z) \
	VMOVUPS (R10), Z16; \
	VMOVUPS 64(R10), Z17; \
	BYTE $0x62; BYTE $0xa2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xc0; \
	VMOVDQA32 Z16, z; \
	ADDQ R9, R10

// func transRunsB(dst *uint16, src *float32, ldb, chunks int)
//
// Packs 16 rows of a row-major float32 matrix (ldb apart) as one tile of
// its transpose, B, with pairs of k interleaved, for each of chunks
// chunks of 32 columns: tile row j holds the 16 rows' values 2j and
// 2j + 1, rounded to bfloat16. Each chunk makes 16 registers of 16
// pairs, one per row, transposes them as 16 × 16 dwords and stores the 16
// tile rows whole; then src moves on 32 columns, dst on 1024 uint16s.
TEXT ·transRunsB(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), R9
	SHLQ $2, R9 // one row, in bytes
	MOVQ chunks+24(FP), CX
	TESTQ CX, CX
	JEQ bdone
bloop:
	MOVQ SI, R10
	ROWB(Z0)
	ROWB(Z1)
	ROWB(Z2)
	ROWB(Z3)
	ROWB(Z4)
	ROWB(Z5)
	ROWB(Z6)
	ROWB(Z7)
	ROWB(Z8)
	ROWB(Z9)
	ROWB(Z10)
	ROWB(Z11)
	ROWB(Z12)
	ROWB(Z13)
	ROWB(Z14)
	ROWB(Z15)
	TRANSPOSE16
	ADDQ $128, SI
	ADDQ $2048, DI
	DECQ CX
	JNE bloop
bdone:
	VZEROUPPER
	RET
