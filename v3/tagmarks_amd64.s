//go:build !purego

#include "textflag.h"

// The bytes markTag compares with or computes from, sixteen of each.
DATA tagSpaces<>+0(SB)/8, $0x2020202020202020
DATA tagSpaces<>+8(SB)/8, $0x2020202020202020
GLOBL tagSpaces<>(SB), RODATA|NOPTR, $16
DATA tagLetterShift<>+0(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA tagLetterShift<>+8(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL tagLetterShift<>(SB), RODATA|NOPTR, $16
DATA tagLetterBound<>+0(SB)/8, $0x9a9a9a9a9a9a9a9a
DATA tagLetterBound<>+8(SB)/8, $0x9a9a9a9a9a9a9a9a
GLOBL tagLetterBound<>(SB), RODATA|NOPTR, $16
DATA tagDigitShift<>+0(SB)/8, $0x5050505050505050
DATA tagDigitShift<>+8(SB)/8, $0x5050505050505050
GLOBL tagDigitShift<>(SB), RODATA|NOPTR, $16
DATA tagDigitBound<>+0(SB)/8, $0x8a8a8a8a8a8a8a8a
DATA tagDigitBound<>+8(SB)/8, $0x8a8a8a8a8a8a8a8a
GLOBL tagDigitBound<>(SB), RODATA|NOPTR, $16
DATA tagUnderscore<>+0(SB)/8, $0x5f5f5f5f5f5f5f5f
DATA tagUnderscore<>+8(SB)/8, $0x5f5f5f5f5f5f5f5f
GLOBL tagUnderscore<>(SB), RODATA|NOPTR, $16
DATA tagHyphen<>+0(SB)/8, $0x2d2d2d2d2d2d2d2d
DATA tagHyphen<>+8(SB)/8, $0x2d2d2d2d2d2d2d2d
GLOBL tagHyphen<>(SB), RODATA|NOPTR, $16
DATA tagDot<>+0(SB)/8, $0x2e2e2e2e2e2e2e2e
DATA tagDot<>+8(SB)/8, $0x2e2e2e2e2e2e2e2e
GLOBL tagDot<>(SB), RODATA|NOPTR, $16
DATA tagColon<>+0(SB)/8, $0x3a3a3a3a3a3a3a3a
DATA tagColon<>+8(SB)/8, $0x3a3a3a3a3a3a3a3a
GLOBL tagColon<>(SB), RODATA|NOPTR, $16
DATA tagDQuote<>+0(SB)/8, $0x2222222222222222
DATA tagDQuote<>+8(SB)/8, $0x2222222222222222
GLOBL tagDQuote<>(SB), RODATA|NOPTR, $16
DATA tagSQuote<>+0(SB)/8, $0x2727272727272727
DATA tagSQuote<>+8(SB)/8, $0x2727272727272727
GLOBL tagSQuote<>(SB), RODATA|NOPTR, $16
DATA tagAmp<>+0(SB)/8, $0x2626262626262626
DATA tagAmp<>+8(SB)/8, $0x2626262626262626
GLOBL tagAmp<>(SB), RODATA|NOPTR, $16
DATA tagLess<>+0(SB)/8, $0x3c3c3c3c3c3c3c3c
DATA tagLess<>+8(SB)/8, $0x3c3c3c3c3c3c3c3c
GLOBL tagLess<>(SB), RODATA|NOPTR, $16

// INDENTATION marks the usual indentation after a tag, a line feed,
// spaces and the next '<', for document (tagMarks.textFrom and textEnd):
// AX is the index after the tag's '>', SI the message, DX the last index
// a sixteen-byte load may start at, DI the tagMarks, X8 sixteen spaces;
// it changes BX, CX and X0.
#define INDENTATION \
	MOVQ AX, 48(DI); \
	MOVQ $0, 56(DI); \
	LEAQ 1(AX), BX; \
	CMPQ BX, DX; \
	JGT  indentDone; \
	MOVBLZX (SI)(AX*1), CX; \
	CMPL CX, $0x0a; \
	JNE  indentDone; \
indent: \
	MOVOU (SI)(BX*1), X0; \
	PCMPEQB X8, X0; \
	PMOVMSKB X0, CX; \
	XORL $0xffff, CX; \
	JNZ  indentStop; \
	ADDQ $16, BX; \
	CMPQ BX, DX; \
	JLE  indent; \
	JMP  indentDone; \
indentStop: \
	BSFL CX, CX; \
	ADDQ CX, BX; \
	MOVBLZX (SI)(BX*1), CX; \
	CMPL CX, $0x3c; \
	JNE  indentDone; \
	MOVQ BX, 56(DI); \
indentDone:

// ALNUM loads the sixteen bytes at AX into X0 (or goes to bail when they
// are not all within the message: AX above DX) and sets each byte of X2
// that is an ASCII letter or digit to 0xff, the others to 0, using X8-X12
// (markTag's constants), X1 and X3: each range moved to start at 0x80
// (-128 as a signed byte), so that one signed compare finds it: letters,
// (x|0x20)+0x1f in 0x80-0x99 (below 0x9a), and digits, x+0x50 in
// 0x80-0x89 (below 0x8a). No other byte lands there: x|0x20 is 'a'-'z'
// only for letters, and each sum wraps the other bytes outside.
#define ALNUM \
	CMPQ AX, DX; \
	JGT  bail; \
	MOVOU (SI)(AX*1), X0; \
	MOVOU X0, X1; \
	POR   X8, X1; \
	PADDB X9, X1; \
	MOVOU X10, X2; \
	PCMPGTB X1, X2; \
	MOVOU X0, X1; \
	PADDB X11, X1; \
	MOVOU X12, X3; \
	PCMPGTB X1, X3; \
	POR   X3, X2

// func markTag(src string, i, maxN int, m *tagMarks) (end int)
//
// Registers: SI the message, DX the last index a sixteen-byte load may
// start at (len-16), AX the position, DI m, R8 the attributes read, R10
// where the name being read starts, R11 its colon (-1: none), R12 the
// flags (markEmpty 1, markEmptyAttr 2, and 4 while reading attributes),
// R13 the white space bits; BX, CX, R9 scratch. X8-X12 hold the constants
// of the name test.
TEXT ·markTag(SB), NOSPLIT, $0-48
	MOVQ src_base+0(FP), SI
	MOVQ src_len+8(FP), DX
	MOVQ i+16(FP), AX
	MOVQ m+32(FP), DI
	SUBQ $16, DX
	MOVOU tagSpaces<>(SB), X8
	MOVOU tagLetterShift<>(SB), X9
	MOVOU tagLetterBound<>(SB), X10
	MOVOU tagDigitShift<>(SB), X11
	MOVOU tagDigitBound<>(SB), X12
	MOVQ $0x100002600, R13 // ' ', '\r', '\n', '\t'
	XORQ R8, R8
	XORQ R12, R12
	CMPQ maxN+24(FP), $16 // the room of m.attr (maxMarkedAttrs)
	JGT  bail

	// The element's name: a letter or '_' first.
	CMPQ AX, DX
	JGT  bail
	MOVBLZX (SI)(AX*1), BX
	CMPL BX, $0x5f
	JEQ  elemName
	ORL  $0x20, BX
	SUBL $0x61, BX
	CMPL BX, $25
	JHI  bail

elemName:
	MOVQ AX, R10

	// A name from R10 (its first byte checked): the run of letters,
	// digits, '_', '-', '.' and ':', with at most one colon, not last.
name:
	MOVQ $-1, R11

	// Most names are letters and digits alone: while the byte after
	// them is not '_', '-', '.' or ':', nothing else is looked at.
nameFast:
	ALNUM
	PMOVMSKB X2, CX
	NOTL CX
	BSFL CX, CX // the letters and digits in this block: 0 to 16
	CMPL CX, $16
	JEQ  nameFastOn
	LEAQ (AX)(CX*1), BX
	MOVBLZX (SI)(BX*1), BX
	CMPL BX, $0x3d // '=', after most attribute names
	JEQ  nameEq
	CMPL BX, $0x5f // '_'
	JEQ  nameBlock
	CMPL BX, $0x3a // ':'
	JEQ  nameBlock
	SUBL $0x2d, BX // '-', '.'
	CMPL BX, $1
	JLS  nameBlock
	ADDQ CX, AX
	JMP  nameDone

nameFastOn:
	ADDQ $16, AX
	JMP  nameFast

	// An attribute name without a prefix, its '=' at AX+CX (an
	// element's name does not end there: bail).
nameEq:
	ADDQ CX, AX
	BTQ  $2, R12
	JCC  bail
	CMPQ AX, DX
	JGT  bail // the quote's load below needs AX+1 within the message
	JMP  keyQuote

	// Any name byte: the block from AX again, and the rest of the name.
nameBlock:
	ALNUM
	MOVOU tagUnderscore<>(SB), X1
	PCMPEQB X0, X1
	POR   X1, X2
	MOVOU tagHyphen<>(SB), X1
	PCMPEQB X0, X1
	POR   X1, X2
	MOVOU tagDot<>(SB), X1
	PCMPEQB X0, X1
	POR   X1, X2
	MOVOU tagColon<>(SB), X1
	PCMPEQB X0, X1
	POR   X1, X2
	PMOVMSKB X2, CX
	PMOVMSKB X1, BX
	NOTL CX
	BSFL CX, CX // the name's bytes in this block: 0 to 16
	MOVL $1, R9
	SHLL CX, R9
	DECL R9
	ANDL R9, BX // its colons
	JZ   nameOn
	CMPQ R11, $-1
	JNE  bail // a second colon
	LEAL -1(BX), R9
	ANDL BX, R9
	JNZ  bail // a second colon
	BSFL BX, BX
	LEAQ (AX)(BX*1), R11

nameOn:
	ADDQ CX, AX
	CMPQ CX, $16
	JEQ  nameBlock
	CMPQ R11, $-1
	JEQ  nameDone
	LEAQ 1(R11), BX
	CMPQ BX, AX
	JGE  bail // the colon ends the name

nameDone:
	BTQ  $2, R12
	JCS  keyDone
	MOVQ AX, BX
	SUBQ R10, BX
	MOVQ BX, 0(DI) // m.nameLen
	CMPQ R11, $-1
	JNE  elemPrefix
	MOVQ $0, 8(DI)   // m.spaceLen
	MOVQ R10, 16(DI) // m.tagStart
	MOVQ BX, 24(DI)  // m.tagLen
	JMP  elemDone

elemPrefix:
	MOVQ R11, BX
	SUBQ R10, BX
	MOVQ BX, 8(DI) // m.spaceLen
	LEAQ 1(R11), BX
	MOVQ BX, 16(DI) // m.tagStart
	MOVQ AX, CX
	SUBQ BX, CX
	MOVQ CX, 24(DI) // m.tagLen

elemDone:
	ORQ  $4, R12

	// Before each attribute or the tag's end: white space.
attrs:
	MOVQ AX, R10

space:
	CMPQ AX, DX
	JGT  bail
	MOVBLZX (SI)(AX*1), BX
	CMPL BX, $0x20
	JHI  spaceDone
	BTQ  BX, R13
	JCC  spaceDone
	INCQ AX
	JMP  space

spaceDone:
	// After white space, most often an attribute's first letter: looked
	// for first.
	CMPQ AX, R10
	JEQ  noSpace
	MOVL BX, CX
	ORL  $0x20, CX
	SUBL $0x61, CX
	CMPL CX, $25
	JHI  notLetter

keyStart:
	CMPQ R8, maxN+24(FP)
	JGE  bail
	MOVQ AX, R10
	JMP  name

notLetter:
	CMPL BX, $0x5f
	JEQ  keyStart

noSpace:
	CMPL BX, $0x3e // '>'
	JEQ  closed
	CMPL BX, $0x2f // '/'
	JEQ  selfClosed
	JMP  bail // an attribute without white space before it, or no name

keyDone:
	// '=' and the quote right after the name.
	CMPQ AX, DX
	JGT  bail
	MOVBLZX (SI)(AX*1), BX
	CMPL BX, $0x3d // '='
	JNE  bail

keyQuote:
	MOVBLZX 1(SI)(AX*1), BX
	LEAQ tagDQuote<>(SB), CX
	CMPL BX, $0x22
	JEQ  quoted
	LEAQ tagSQuote<>(SB), CX
	CMPL BX, $0x27
	JNE  bail

quoted:
	MOVQ R8, R9
	SHLQ $4, R9
	LEAQ (R9)(R9*2), R9
	LEAQ 64(DI)(R9*1), R9 // &m.attr[n]
	MOVQ R10, 0(R9)       // spaceStart
	CMPQ R11, $-1
	JNE  keyPrefix
	MOVQ $0, 8(R9)  // spaceLen
	MOVQ R10, 16(R9) // keyStart
	MOVQ AX, BX
	SUBQ R10, BX
	MOVQ BX, 24(R9) // keyLen
	JMP  keyMarked

keyPrefix:
	MOVQ R11, BX
	SUBQ R10, BX
	MOVQ BX, 8(R9) // spaceLen
	LEAQ 1(R11), BX
	MOVQ BX, 16(R9) // keyStart
	MOVQ AX, R10
	SUBQ BX, R10
	MOVQ R10, 24(R9) // keyLen

keyMarked:
	ADDQ $2, AX
	MOVQ AX, 32(R9) // valStart
	MOVOU (CX), X5  // the quote

	// The value: printable ASCII but '&' and '<' up to the quote.
value:
	CMPQ AX, DX
	JGT  bail
	MOVOU (SI)(AX*1), X0
	MOVOU X5, X1
	PCMPEQB X0, X1
	MOVOU tagAmp<>(SB), X2
	PCMPEQB X0, X2
	POR   X2, X1
	MOVOU tagLess<>(SB), X2
	PCMPEQB X0, X2
	POR   X2, X1
	MOVOU X8, X2
	PCMPGTB X0, X2 // bytes below 0x20 as signed bytes: controls, and 0x80 and above
	POR   X2, X1
	PMOVMSKB X1, CX
	TESTL CX, CX
	JNZ  valueStop
	ADDQ $16, AX
	JMP  value

valueStop:
	BSFL CX, CX
	ADDQ CX, AX
	MOVBLZX (SI)(AX*1), BX
	MOVQ 32(R9), CX
	MOVBLZX -1(SI)(CX*1), R10
	CMPL BX, R10
	JNE  bail // not the closing quote: plainTagWords reads it
	MOVQ AX, BX
	SUBQ CX, BX
	MOVQ BX, 40(R9) // valLen
	JNZ  valueDone
	ORQ  $2, R12

valueDone:
	INCQ R8
	INCQ AX
	JMP  attrs

selfClosed:
	MOVBLZX 1(SI)(AX*1), BX
	CMPL BX, $0x3e
	JNE  bail
	INCQ AX
	ORQ  $1, R12

closed:
	INCQ AX
	MOVQ R8, 32(DI) // m.n
	ANDQ $3, R12
	MOVQ R12, 40(DI) // m.flags
	MOVQ AX, end+40(FP)

	INDENTATION
	RET

bail:
	MOVQ $0, end+40(FP)
	RET

// func markEnd(src string, i, at, n int, m *tagMarks) (end int)
//
// Registers: SI the message, DX the last index a sixteen-byte load may
// start at (len-16), AX the position in the end tag, BX where the name
// stands in its start tag, CX the name's bytes still to compare, DI m.
TEXT ·markEnd(SB), NOSPLIT, $0-56
	MOVQ src_base+0(FP), SI
	MOVQ src_len+8(FP), DX
	MOVQ i+16(FP), AX
	MOVQ at+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ m+40(FP), DI
	SUBQ $16, DX
	ADDQ $2, AX // after "</"
	TESTQ CX, CX
	JLE  endBail
	TESTQ BX, BX
	JLT  endBail
	CMPQ BX, AX
	JGE  endBail // the start tag's name stands before

	// The name as the start tag has it, sixteen bytes a step.
endName:
	CMPQ AX, DX
	JGT  endBail
	MOVOU (SI)(AX*1), X0
	MOVOU (SI)(BX*1), X1
	PCMPEQB X1, X0
	PMOVMSKB X0, R8
	NOTL R8 // the bytes that differ
	CMPQ CX, $16
	JLT  endNameTail
	TESTL $0xffff, R8
	JNZ  endBail
	ADDQ $16, AX
	ADDQ $16, BX
	SUBQ $16, CX
	JNZ  endName
	JMP  endNameDone

endNameTail:
	MOVL $1, R9
	SHLL CX, R9
	DECL R9
	TESTL R9, R8
	JNZ  endBail
	ADDQ CX, AX

endNameDone:
	// '>' right after the name, or after white space.
	MOVQ $0x100002600, R10 // ' ', '\r', '\n', '\t'

endSpace:
	CMPQ AX, DX
	JGT  endBail
	MOVBLZX (SI)(AX*1), R8
	CMPL R8, $0x3e // '>'
	JEQ  endClosed
	CMPL R8, $0x20
	JHI  endBail
	BTQ  R8, R10
	JCC  endBail
	INCQ AX
	JMP  endSpace

endClosed:
	INCQ AX
	MOVQ AX, end+48(FP)

	MOVOU tagSpaces<>(SB), X8
	INDENTATION
	RET

endBail:
	MOVQ $0, end+48(FP)
	RET
