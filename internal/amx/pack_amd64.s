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

// ROUND16 rounds the 16 float32s in Z(in) to bfloat16, to nearest with
// ties to even: bits + 0x7fff + (bit 16), shifted down 16 (Z30 holds
// 0x7fff in every lane, Z31 1). Clobbers Z29.
#define ROUND16(in) \
	VPSRLD $16, in, Z29; \
	VPANDD Z31, Z29, Z29; \
	VPADDD Z30, Z29, Z29; \
	VPADDD Z29, in, in; \
	VPSRLD $16, in, in


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
// pair), as 16 pairs at dst side by side, or (scatter) 64 bytes apart;
// then lo, hi += srcStep floats, dst += dstStep uint16s.
TEXT ·pairRuns(SB), NOSPLIT, $0-56
	MOVL $0x7fff, AX
	VPBROADCASTD AX, Z30
	MOVL $1, AX
	VPBROADCASTD AX, Z31
	VBROADCASTSS alpha+52(FP), Z28
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
	VMULPS (SI), Z28, Z0
	VMULPS (BX), Z28, Z1
	ROUND16(Z0)
	ROUND16(Z1)
	VPSLLD $16, Z1, Z1
	VPORD Z1, Z0, Z0
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
