//go:build amd64 && !purego

#include "textflag.h"

// The AMX instructions, which Go's assembler does not know, are spelled
// as bytes (their encodings from GNU as 2.40; the tests check the
// results).

// func tileKernel(cfg *[64]byte, chunks int, a, b *uint16, c *float32, ldcBytes, blocks int, zero bool, bias *float32, bStrideBytes int)
//
// For each of blocks blocks of 32 columns: C[0:32, 0:32] (ldcBytes apart)
// = (bias ≠ nil ? bias : zero ? 0 : C) + A·B over chunks of 32 values of
// k, where bias is a row of 32 values added to every row (its tiles
// loaded with a stride of 0; bias advances 128 bytes a block). The four 16 × 16
// tiles of C live in tmm0–tmm3, each chunk's two tiles of A (16 rows ×
// 32 bf16, 2048 bytes a chunk) in tmm4–tmm5 and of B (16 pairs of k ×
// 16 columns, pairs interleaved) in tmm6–tmm7. B's blocks are
// bStrideBytes apart (chunks·2048 when they follow each other), C's 128
// bytes.
TEXT ·tileKernel(SB), NOSPLIT, $0-80
	MOVQ cfg+0(FP), AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x78; BYTE $0x49; BYTE $0x00 // LDTILECFG (AX)
	MOVQ b+24(FP), BX
	MOVQ c+32(FP), DI
	MOVQ ldcBytes+40(FP), DX
	MOVQ blocks+48(FP), R11
	MOVQ bias+64(FP), R13
	MOVQ chunks+8(FP), R12
	SHLQ $11, R12
	NEGQ R12
	ADDQ bStrideBytes+72(FP), R12 // from the end of a block of B to the next
	MOVQ $64, CX
	MOVQ DX, R10
	SHLQ $4, R10
block:
	MOVQ chunks+8(FP), R9
	MOVQ a+16(FP), SI
	TESTQ R13, R13
	JNE biasload
	CMPB zero+56(FP), $0
	JEQ load
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xc0 // TILEZERO TMM0
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xc8 // TILEZERO TMM1
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xd0 // TILEZERO TMM2
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xd8 // TILEZERO TMM3
	JMP chunks
biasload:
	XORQ R8, R8
	MOVQ R13, AX
	BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x04; BYTE $0x00 // TILELOADD (AX)(R8*1), TMM0: stride 0
	BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x14; BYTE $0x00 // TILELOADD (AX)(R8*1), TMM2
	ADDQ $64, AX
	BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x0c; BYTE $0x00 // TILELOADD (AX)(R8*1), TMM1
	BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x1c; BYTE $0x00 // TILELOADD (AX)(R8*1), TMM3
	ADDQ $128, R13
	JMP chunks
load:
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x04; BYTE $0x17 // TILELOADD (DI)(DX*1), TMM0
	LEAQ 64(DI), AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x0c; BYTE $0x10 // TILELOADD (AX)(DX*1), TMM1
	LEAQ (DI)(R10*1), AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x14; BYTE $0x10 // TILELOADD (AX)(DX*1), TMM2
	ADDQ $64, AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x1c; BYTE $0x10 // TILELOADD (AX)(DX*1), TMM3
chunks:
	TESTQ R9, R9
	JEQ store
loop:
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x24; BYTE $0x0e // TILELOADD (SI)(CX*1), TMM4
	LEAQ 1024(SI), AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x2c; BYTE $0x08 // TILELOADD (AX)(CX*1), TMM5
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x34; BYTE $0x0b // TILELOADD (BX)(CX*1), TMM6
	LEAQ 1024(BX), AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x3c; BYTE $0x08 // TILELOADD (AX)(CX*1), TMM7
	BYTE $0xc4; BYTE $0xe2; BYTE $0x4a; BYTE $0x5c; BYTE $0xc4 // TDPBF16PS TMM6, TMM4, TMM0
	BYTE $0xc4; BYTE $0xe2; BYTE $0x42; BYTE $0x5c; BYTE $0xcc // TDPBF16PS TMM7, TMM4, TMM1
	BYTE $0xc4; BYTE $0xe2; BYTE $0x4a; BYTE $0x5c; BYTE $0xd5 // TDPBF16PS TMM6, TMM5, TMM2
	BYTE $0xc4; BYTE $0xe2; BYTE $0x42; BYTE $0x5c; BYTE $0xdd // TDPBF16PS TMM7, TMM5, TMM3
	ADDQ $2048, SI
	ADDQ $2048, BX
	DECQ R9
	JNE loop
store:
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7a; BYTE $0x4b; BYTE $0x04; BYTE $0x17 // TILESTORED TMM0, (DI)(DX*1)
	LEAQ 64(DI), AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7a; BYTE $0x4b; BYTE $0x0c; BYTE $0x10 // TILESTORED TMM1, (AX)(DX*1)
	LEAQ (DI)(R10*1), AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7a; BYTE $0x4b; BYTE $0x14; BYTE $0x10 // TILESTORED TMM2, (AX)(DX*1)
	ADDQ $64, AX
	BYTE $0xc4; BYTE $0xe2; BYTE $0x7a; BYTE $0x4b; BYTE $0x1c; BYTE $0x10 // TILESTORED TMM3, (AX)(DX*1)
	ADDQ $128, DI
	ADDQ R12, BX
	DECQ R11
	JNE block
	BYTE $0xc4; BYTE $0xe2; BYTE $0x78; BYTE $0x49; BYTE $0xc0 // TILERELEASE
	RET
