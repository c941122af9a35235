#include "textflag.h"

// The bytes appendPlain compares with, sixteen of each.
DATA plainQuotes<>+0(SB)/8, $0x2222222222222222
DATA plainQuotes<>+8(SB)/8, $0x2222222222222222
GLOBL plainQuotes<>(SB), RODATA|NOPTR, $16
DATA plainSlashes<>+0(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA plainSlashes<>+8(SB)/8, $0x5c5c5c5c5c5c5c5c
GLOBL plainSlashes<>(SB), RODATA|NOPTR, $16
DATA plainSpaces<>+0(SB)/8, $0x2020202020202020
DATA plainSpaces<>+8(SB)/8, $0x2020202020202020
GLOBL plainSpaces<>(SB), RODATA|NOPTR, $16

// SPECIALS sets a bit in DX for each byte of the block in X0 that is a
// quote (X1 holds sixteen), a backslash (X2) or, as a signed byte, below
// 0x20 (X3): a control byte or one of 0x80 and above.
#define SPECIALS \
	MOVOU X0, X4; \
	PCMPEQB X1, X4; \
	MOVOU X0, X5; \
	PCMPEQB X2, X5; \
	POR X5, X4; \
	MOVOU X3, X5; \
	PCMPGTB X0, X5; \
	POR X5, X4; \
	PMOVMSKB X4, DX

// func appendPlain(buf []byte, s string) []byte
//
// Where buf has room for s, its quotes and sixteen bytes more (plainRoom),
// writes a quote, then copies the bytes of s after it sixteen at a time
// (SSE2), looking at each block as it goes for a quote, a backslash, a
// byte below 0x20 or one of 0x80 and above (those two at once: below 0x20
// as signed bytes), and writes a quote after them: buf with s appended
// quoted. Otherwise, or at the first block that holds such a byte, buf as
// it was (what was written past its length by then is left). A string
// shorter than sixteen bytes is read as one block when the block does not
// cross into the next page (the bytes past the string are not looked at),
// else a byte at a time; it is written as a whole block (hence the room).
// A longer one is read and written in whole blocks, the last overlapping
// the one before: nothing is read past the string.
TEXT ·appendPlain(SB), NOSPLIT, $0-64
	MOVQ buf_base+0(FP), DI
	MOVQ buf_len+8(FP), R8
	MOVQ buf_cap+16(FP), R9
	MOVQ s_base+24(FP), SI
	MOVQ s_len+32(FP), CX
	MOVQ DI, ret_base+40(FP)
	MOVQ R8, ret_len+48(FP)
	MOVQ R9, ret_cap+56(FP)
	SUBQ R8, R9
	LEAQ 18(CX), AX
	CMPQ R9, AX
	JLT  special
	ADDQ R8, DI
	MOVB $0x22, (DI)
	INCQ DI
	MOVOU plainQuotes<>(SB), X1
	MOVOU plainSlashes<>(SB), X2
	MOVOU plainSpaces<>(SB), X3
	CMPQ CX, $16
	JAE  long
	TESTQ CX, CX
	JEQ  empty
	MOVL SI, AX
	ANDL $4095, AX
	CMPL AX, $4080
	JA   bytes

	// Shorter than a block: one block, its bytes past n not looked at.
	MOVOU (SI), X0
	SPECIALS
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	ANDL BX, DX
	JNZ  special
	MOVOU X0, (DI)
	MOVB $0x22, (DI)(CX*1)
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
	MOVB $0x22, (DI)(CX*1)
	JMP  plain

long:
	// Whole blocks up to the last, then the last, which ends at n.
	XORQ AX, AX
	SUBQ $16, CX

blockloop:
	CMPQ AX, CX
	JAE  last
	MOVOU (SI)(AX*1), X0
	SPECIALS
	TESTL DX, DX
	JNZ  special
	MOVOU X0, (DI)(AX*1)
	ADDQ $16, AX
	JMP  blockloop

last:
	MOVOU (SI)(CX*1), X0
	SPECIALS
	TESTL DX, DX
	JNZ  special
	MOVOU X0, (DI)(CX*1)
	MOVB $0x22, 16(DI)(CX*1)
	ADDQ $16, CX

plain:
	LEAQ 2(R8)(CX*1), R8
	MOVQ R8, ret_len+48(FP)

special:
	RET

empty:
	MOVB $0x22, (DI)
	JMP  plain
