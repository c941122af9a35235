#include "textflag.h"

// The bytes copyPlain compares with, sixteen of each.
DATA plainQuotes<>+0(SB)/8, $0x2222222222222222
DATA plainQuotes<>+8(SB)/8, $0x2222222222222222
GLOBL plainQuotes<>(SB), RODATA|NOPTR, $16
DATA plainSlashes<>+0(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA plainSlashes<>+8(SB)/8, $0x5c5c5c5c5c5c5c5c
GLOBL plainSlashes<>(SB), RODATA|NOPTR, $16
DATA plainControls<>+0(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA plainControls<>+8(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL plainControls<>(SB), RODATA|NOPTR, $16

// func copyPlain(dst, src unsafe.Pointer, n int) bool
//
// Copies the n bytes at src to dst sixteen at a time (SSE2), looking at
// each block as it goes for a quote, a backslash, a byte below 0x20 or one
// of 0x80 and above; false at the first block that holds one (what was
// copied by then is left). A string shorter than sixteen bytes is read as
// one block when the block does not cross into the next page (the bytes
// past the string are not looked at), else a byte at a time; it is
// written as a whole block (the caller leaves room for it). A longer one
// is read and written in whole blocks, the last overlapping the one
// before: nothing is read or written past the n bytes.
TEXT ·copyPlain(SB), NOSPLIT, $0-25
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVOU plainQuotes<>(SB), X1
	MOVOU plainSlashes<>(SB), X2
	MOVOU plainControls<>(SB), X3
	CMPQ CX, $16
	JAE  long
	TESTQ CX, CX
	JEQ  plain
	MOVL SI, AX
	ANDL $4095, AX
	CMPL AX, $4080
	JA   bytes

	// Shorter than a block: one block, its bytes past n not looked at.
	MOVOU (SI), X0
	MOVOU X0, X4
	PCMPEQB X1, X4
	MOVOU X0, X5
	PCMPEQB X2, X5
	POR X5, X4
	MOVOU X0, X5
	PMINUB X3, X5
	PCMPEQB X0, X5
	POR X5, X4
	PMOVMSKB X4, DX
	PMOVMSKB X0, BX
	ORL BX, DX
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	ANDL BX, DX
	JNZ  special
	MOVOU X0, (DI)
	JMP  plain

bytes:
	// Shorter than a block and too near the end of its page: a byte at a
	// time.
	XORQ AX, AX

byteloop:
	MOVBLZX (SI)(AX*1), DX
	CMPB DL, $0x20
	JB   special
	CMPB DL, $0x22
	JEQ  special
	CMPB DL, $0x5c
	JEQ  special
	CMPB DL, $0x80
	JAE  special
	MOVB DL, (DI)(AX*1)
	INCQ AX
	CMPQ AX, CX
	JB   byteloop
	JMP  plain

long:
	// Whole blocks up to the last, then the last, which ends at n.
	XORQ AX, AX
	SUBQ $16, CX

blockloop:
	CMPQ AX, CX
	JAE  last
	MOVOU (SI)(AX*1), X0
	MOVOU X0, X4
	PCMPEQB X1, X4
	MOVOU X0, X5
	PCMPEQB X2, X5
	POR X5, X4
	MOVOU X0, X5
	PMINUB X3, X5
	PCMPEQB X0, X5
	POR X5, X4
	PMOVMSKB X4, DX
	PMOVMSKB X0, BX
	ORL BX, DX
	JNZ  special
	MOVOU X0, (DI)(AX*1)
	ADDQ $16, AX
	JMP  blockloop

last:
	MOVOU (SI)(CX*1), X0
	MOVOU X0, X4
	PCMPEQB X1, X4
	MOVOU X0, X5
	PCMPEQB X2, X5
	POR X5, X4
	MOVOU X0, X5
	PMINUB X3, X5
	PCMPEQB X0, X5
	POR X5, X4
	PMOVMSKB X4, DX
	PMOVMSKB X0, BX
	ORL BX, DX
	JNZ  special
	MOVOU X0, (DI)(CX*1)

plain:
	MOVB $1, ret+24(FP)
	RET

special:
	MOVB $0, ret+24(FP)
	RET
