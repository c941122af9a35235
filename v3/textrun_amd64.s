//go:build !purego

#include "textflag.h"

DATA textAmp<>+0(SB)/8, $0x2626262626262626
DATA textAmp<>+8(SB)/8, $0x2626262626262626
GLOBL textAmp<>(SB), RODATA|NOPTR, $16
DATA textLess<>+0(SB)/8, $0x3c3c3c3c3c3c3c3c
DATA textLess<>+8(SB)/8, $0x3c3c3c3c3c3c3c3c
GLOBL textLess<>(SB), RODATA|NOPTR, $16
DATA textSpaces<>+0(SB)/8, $0x2020202020202020
DATA textSpaces<>+8(SB)/8, $0x2020202020202020
GLOBL textSpaces<>(SB), RODATA|NOPTR, $16

// func textRun(s string, thirds uint64) int
//
// Sixteen bytes a step (SSE2): the index of the first byte of s that is
// '&', '<', the byte thirds holds in each of its eight, below 0x20 or 0x80
// and above, in the whole sixteen-byte blocks of s; past the last whole
// block when none is.
TEXT ·textRun(SB), NOSPLIT, $0-32
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), CX
	MOVQ thirds+16(FP), X3
	PUNPCKLQDQ X3, X3
	MOVOU textAmp<>(SB), X4
	MOVOU textLess<>(SB), X5
	MOVOU textSpaces<>(SB), X6
	XORQ AX, AX

loop:
	LEAQ 16(AX), DX
	CMPQ DX, CX
	JGT  done
	MOVOU (SI)(AX*1), X0
	MOVOU X3, X1
	PCMPEQB X0, X1 // the third byte
	MOVOU X4, X2
	PCMPEQB X0, X2 // '&'
	POR  X2, X1
	MOVOU X5, X2
	PCMPEQB X0, X2 // '<'
	POR  X2, X1
	MOVOU X6, X2
	PCMPGTB X0, X2 // below 0x20 as signed bytes: controls, and 0x80 and above
	POR  X2, X1
	PMOVMSKB X1, DX
	TESTL DX, DX
	JNZ  found
	ADDQ $16, AX
	JMP  loop

found:
	BSFL DX, DX
	ADDQ DX, AX

done:
	MOVQ AX, ret+24(FP)
	RET
