#include "textflag.h"

// The bytes specialRun compares with, sixteen of each.
DATA specialQuotes<>+0(SB)/8, $0x2222222222222222
DATA specialQuotes<>+8(SB)/8, $0x2222222222222222
GLOBL specialQuotes<>(SB), RODATA|NOPTR, $16
DATA specialSlashes<>+0(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA specialSlashes<>+8(SB)/8, $0x5c5c5c5c5c5c5c5c
GLOBL specialSlashes<>(SB), RODATA|NOPTR, $16
DATA specialControls<>+0(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA specialControls<>+8(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL specialControls<>(SB), RODATA|NOPTR, $16

// func specialRun(b []byte) int
//
// Sixteen bytes a step (SSE2): the index of the first byte of b that is a
// quote, a backslash, below 0x20 or 0x80 and above, in the whole sixteen-
// byte blocks of b; past the last whole block when none is.
TEXT ·specialRun(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	XORQ AX, AX
	MOVOU specialQuotes<>(SB), X1
	MOVOU specialSlashes<>(SB), X2
	MOVOU specialControls<>(SB), X3

loop:
	LEAQ 16(AX), DX
	CMPQ DX, CX
	JGT  done
	MOVOU (SI)(AX*1), X0
	MOVOU X0, X4
	PCMPEQB X1, X4    // quotes
	MOVOU X0, X5
	PCMPEQB X2, X5    // backslashes
	POR X5, X4
	MOVOU X0, X5
	PMINUB X3, X5
	PCMPEQB X0, X5    // bytes up to 0x1f: min(x, 0x1f) == x
	POR X5, X4
	PMOVMSKB X4, DX
	PMOVMSKB X0, BX   // bytes of 0x80 and above: their high bits
	ORL BX, DX
	JNZ found
	ADDQ $16, AX
	JMP loop

found:
	BSFL DX, DX
	ADDQ DX, AX

done:
	MOVQ AX, ret+24(FP)
	RET
