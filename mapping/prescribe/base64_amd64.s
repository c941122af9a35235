//go:build !purego

#include "textflag.h"

// The constants of base64Blocks (Wojciech Muła's SSSE3 base64 encoding,
// "Base64 encoding with SIMD instructions", 2016): the shuffle that puts
// the bytes b0 b1 b2 of each three as b1 b0 b2 b1 in a 32-bit lane, the
// masks and multipliers that move the four six-bit values of a lane to a
// byte each, and the table of what each range of values adds to make its
// character.
DATA b64Shuffle<>+0(SB)/8, $0x0405030401020001
DATA b64Shuffle<>+8(SB)/8, $0x0a0b090a07080607
GLOBL b64Shuffle<>(SB), RODATA|NOPTR, $16
DATA b64Mask1<>+0(SB)/8, $0x0fc0fc000fc0fc00
DATA b64Mask1<>+8(SB)/8, $0x0fc0fc000fc0fc00
GLOBL b64Mask1<>(SB), RODATA|NOPTR, $16
DATA b64Mul1<>+0(SB)/8, $0x0400004004000040
DATA b64Mul1<>+8(SB)/8, $0x0400004004000040
GLOBL b64Mul1<>(SB), RODATA|NOPTR, $16
DATA b64Mask2<>+0(SB)/8, $0x003f03f0003f03f0
DATA b64Mask2<>+8(SB)/8, $0x003f03f0003f03f0
GLOBL b64Mask2<>(SB), RODATA|NOPTR, $16
DATA b64Mul2<>+0(SB)/8, $0x0100001001000010
DATA b64Mul2<>+8(SB)/8, $0x0100001001000010
GLOBL b64Mul2<>(SB), RODATA|NOPTR, $16
DATA b64Fifty1<>+0(SB)/8, $0x3333333333333333
DATA b64Fifty1<>+8(SB)/8, $0x3333333333333333
GLOBL b64Fifty1<>(SB), RODATA|NOPTR, $16
DATA b64TwentySix<>+0(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA b64TwentySix<>+8(SB)/8, $0x1a1a1a1a1a1a1a1a
GLOBL b64TwentySix<>(SB), RODATA|NOPTR, $16
DATA b64Thirteen<>+0(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA b64Thirteen<>+8(SB)/8, $0x0d0d0d0d0d0d0d0d
GLOBL b64Thirteen<>(SB), RODATA|NOPTR, $16
// What a value adds by its range (the index base64Blocks computes):
// 0 for 26..51 ('a'-26 = 71), 1..10 for 52..61 ('0'-52 = -4), 11 for 62
// ('+'-62 = -19), 12 for 63 ('/'-63 = -16), 13 for 0..25 ('A' = 65).
DATA b64Shift<>+0(SB)/8, $0xfcfcfcfcfcfcfc47
DATA b64Shift<>+8(SB)/8, $0x000041f0edfcfcfc
GLOBL b64Shift<>(SB), RODATA|NOPTR, $16

// func base64Blocks(dst, src *byte, n int)
//
// Writes the base64 of n runs of twelve bytes at src as n runs of sixteen
// characters at dst, a run a turn (SSSE3). It loads sixteen bytes a run:
// src must hold four bytes past the last run.
TEXT ·base64Blocks(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JLE  done
	MOVOU b64Shuffle<>(SB), X8
	MOVOU b64Mask1<>(SB), X9
	MOVOU b64Mul1<>(SB), X10
	MOVOU b64Mask2<>(SB), X11
	MOVOU b64Mul2<>(SB), X12
	MOVOU b64Fifty1<>(SB), X13
	MOVOU b64TwentySix<>(SB), X14
	MOVOU b64Thirteen<>(SB), X6
	MOVOU b64Shift<>(SB), X7

loop:
	MOVOU (SI), X0
	PSHUFB X8, X0
	MOVOU X0, X1
	PAND X9, X0
	PMULHUW X10, X0
	PAND X11, X1
	PMULLW X12, X1
	POR X1, X0         // the sixteen six-bit values, a byte each
	MOVOU X0, X2
	PSUBUSB X13, X2    // 52..63 -> 1..12, the rest 0
	MOVOU X14, X3
	PCMPGTB X0, X3     // below 26
	PAND X6, X3
	POR X3, X2         // 0..25 -> 13
	MOVOU X7, X4
	PSHUFB X2, X4      // what each adds
	PADDB X4, X0
	MOVOU X0, (DI)
	ADDQ $12, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  loop

done:
	RET
