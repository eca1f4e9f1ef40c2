//go:build gc && !purego

#include "textflag.h"

// The three lookup tables of the algorithm (see doc.go). Each entry is the set
// of errors, one bit each, that a nibble value allows:
//
//	0x01 too short: a lead byte followed by a non-continuation
//	0x02 too long: an ASCII byte followed by a continuation
//	0x04 overlong 3: E0 followed by 80..9F
//	0x08 too large: F4 followed by 90..BF, or F5..FF followed by 90..BF
//	0x10 surrogate: ED followed by A0..BF
//	0x20 overlong 2: C0 or C1 followed by a continuation
//	0x40 overlong 4 (F0 followed by 80..8F) or too large (F5..FF, 80..8F)
//	0x80 two continuations in a row (legal only as byte 3 or 4)
//
// A pair of bytes commits the errors in the AND of the entries of byte1High
// (indexed by the high nibble of the first byte), byte1Low (its low nibble)
// and byte2High (the high nibble of the second byte).
DATA byte1High<>+0(SB)/8, $0x0202020202020202 // 0-7 ASCII: too long
DATA byte1High<>+8(SB)/8, $0x4915012180808080 // 8-B: two conts; C, D, E, F
GLOBL byte1High<>(SB), RODATA|NOPTR, $16

DATA byte1Low<>+0(SB)/8, $0xcbcbcb8b8383a3e7
DATA byte1Low<>+8(SB)/8, $0xcbcbdbcbcbcbcbcb
GLOBL byte1Low<>(SB), RODATA|NOPTR, $16

DATA byte2High<>+0(SB)/8, $0x0101010101010101 // 0-7: too short
DATA byte2High<>+8(SB)/8, $0x01010101babaaee6 // 8, 9, A, B; C-F: too short
GLOBL byte2High<>(SB), RODATA|NOPTR, $16

// maxLast holds, for a 64-byte block, the largest byte each position may
// hold at the end of the input: any byte but a lead in the last three, no
// 4-byte lead (F0..) three from the end, no 3-byte lead (E0..) two from the
// end, no lead at all (C0..) last. The AVX2 kernel uses its last 32 bytes.
DATA maxLast<>+0(SB)/8, $0xffffffffffffffff
DATA maxLast<>+8(SB)/8, $0xffffffffffffffff
DATA maxLast<>+16(SB)/8, $0xffffffffffffffff
DATA maxLast<>+24(SB)/8, $0xffffffffffffffff
DATA maxLast<>+32(SB)/8, $0xffffffffffffffff
DATA maxLast<>+40(SB)/8, $0xffffffffffffffff
DATA maxLast<>+48(SB)/8, $0xffffffffffffffff
DATA maxLast<>+56(SB)/8, $0xbfdfefffffffffff
GLOBL maxLast<>(SB), RODATA|NOPTR, $64

// Bytes to broadcast: the nibble mask; 0xE0-0x80 and 0xF0-0x80, which a
// byte minus them (saturating) keeps its top bit set exactly if it is at
// least E0 (a 3- or 4-byte lead) or F0 (a 4-byte lead); the top bit.
DATA bytes<>+0(SB)/4, $0x8070600f
GLOBL bytes<>(SB), RODATA|NOPTR, $4

// AVX2 register use:
//
//	SI  input              CX  bytes left (whole blocks)   DX  the tail block
//	R8  non-zero once the constants below are loaded (see SETUP32)
//	Y15 0x0F   Y14 byte1High   Y13 byte1Low   Y12 byte2High  (tables in both lanes)
//	Y8  0x60   Y7 0x70   Y6 0x80
//	Y11 the previous 32 input bytes checked (zero at the start: ASCII)
//	Y10 errors found so far    Y9 the unfinished-sequence test of Y11
//	Y0, Y1 the block           Y2-Y4 temporaries

// SETUP32 loads the constants, once, before the first block that is not
// all ASCII (R8 tells whether done): pure ASCII never pays for them.
#define SETUP32 \
	TESTQ R8, R8        \
	JNZ   3(PC)         \
	CALL  setup32<>(SB) \
	MOVL  $1, R8

// CHECK32 ORs into Y10 the errors of the 32 bytes in, given that prev holds
// the 32 bytes before them. VPERM2I128 and VPALIGNR shift the pair by 1, 2
// and 3 bytes across the 128-bit lanes: prev1 (the byte before each byte),
// prev2 and prev3.
#define CHECK32(in, prev) \
	VPERM2I128 $0x21, in, prev, Y2 \ // Y2 = prev.hi, in.lo
	VPALIGNR   $15, Y2, in, Y3     \ // prev1
	VPSRLW     $4, Y3, Y4          \
	VPAND      Y15, Y4, Y4         \
	VPSHUFB    Y4, Y14, Y4         \ // byte1High[prev1>>4]
	VPAND      Y15, Y3, Y3         \
	VPSHUFB    Y3, Y13, Y3         \ // byte1Low[prev1&15]
	VPAND      Y4, Y3, Y3          \
	VPSRLW     $4, in, Y4          \
	VPAND      Y15, Y4, Y4         \
	VPSHUFB    Y4, Y12, Y4         \ // byte2High[in>>4]
	VPAND      Y4, Y3, Y3          \ // errors of the pairs
	VPALIGNR   $14, Y2, in, Y4     \ // prev2
	VPSUBUSB   Y8, Y4, Y4          \
	VPALIGNR   $13, Y2, in, Y2     \ // prev3
	VPSUBUSB   Y7, Y2, Y2          \
	VPOR       Y2, Y4, Y4          \
	VPAND      Y6, Y4, Y4          \ // 0x80 where a continuation must be byte 3 or 4
	VPXOR      Y4, Y3, Y3          \ // two continuations exactly there
	VPOR       Y3, Y10, Y10

// setup32<> loads the constants of the AVX2 kernel.
TEXT setup32<>(SB), NOSPLIT|NOFRAME, $0-0
	VPBROADCASTB   bytes<>+0(SB), Y15
	VPBROADCASTB   bytes<>+1(SB), Y8
	VPBROADCASTB   bytes<>+2(SB), Y7
	VPBROADCASTB   bytes<>+3(SB), Y6
	VBROADCASTI128 byte1High<>(SB), Y14
	VBROADCASTI128 byte1Low<>(SB), Y13
	VBROADCASTI128 byte2High<>(SB), Y12
	RET

// func utf8AVX2(blocks []byte, tail *[64]byte) bool
TEXT ·utf8AVX2(SB), NOSPLIT, $0-33
	MOVQ blocks_base+0(FP), SI
	MOVQ blocks_len+8(FP), CX
	MOVQ tail+24(FP), DX

	XORL           R8, R8
	VPXOR          Y11, Y11, Y11
	VPXOR          Y10, Y10, Y10
	VPXOR          Y9, Y9, Y9

loop:
	TESTQ     CX, CX
	JZ        tail
	VMOVDQU   (SI), Y0
	VMOVDQU   32(SI), Y1
	ADDQ      $64, SI
	SUBQ      $64, CX
	VPOR      Y0, Y1, Y2
	VPMOVMSKB Y2, AX
	TESTL     AX, AX
	JNZ       check

	// All ASCII: nothing to check but that the block before finished its
	// last sequence.
	VPOR Y9, Y10, Y10
	JMP  loop

check:
	SETUP32
	CHECK32(Y0, Y11)
	CHECK32(Y1, Y0)
	VPSUBUSB maxLast<>+32(SB), Y1, Y9
	VMOVDQA  Y1, Y11
	JMP      loop

tail:
	VMOVDQU   (DX), Y0
	VMOVDQU   32(DX), Y1
	VPOR      Y0, Y1, Y2
	VPMOVMSKB Y2, AX
	TESTL     AX, AX
	JZ        done
	SETUP32
	CHECK32(Y0, Y11)
	CHECK32(Y1, Y0)

	// The tail is followed by at least one zero (ASCII) byte, against
	// which CHECK32 caught any sequence left unfinished: Y9, the test of
	// the block before, is moot.
	VPXOR Y9, Y9, Y9

done:
	VPOR      Y9, Y10, Y10
	VPTEST    Y10, Y10
	SETEQ     ret+32(FP)
	VZEROUPPER
	RET

// AVX-512 register use:
//
//	SI  input              CX  bytes left
//	R8  non-zero once the constants below are loaded (see SETUP64)
//	Z31 0x0F   Z30 byte1High   Z29 byte1Low   Z28 byte2High  (in every lane)
//	Z27 0x60   Z26 0x70   Z25 0x80   Z24 maxLast
//	Z20 the previous 64 input bytes checked (zero at the start: ASCII)
//	Z21 errors found so far    Z22 the unfinished-sequence test of Z20
//	Z0, Z1 the block           Z2-Z5 temporaries

// CHECK64 ORs into Z21 the errors of the 64 bytes in, given that prev holds
// the 64 bytes before them. VALIGND moves every 128-bit lane of the pair one
// lane up, and VPALIGNR then shifts by 1, 2 and 3 bytes across lanes.
#define CHECK64(in, prev) \
	VALIGND    $12, prev, in, Z2 \ // Z2 = the lanes of prev:in one lane before in
	VPALIGNR   $15, Z2, in, Z3   \ // prev1
	VPSRLW     $4, Z3, Z4        \
	VPANDD     Z31, Z4, Z4       \
	VPSHUFB    Z4, Z30, Z4       \ // byte1High[prev1>>4]
	VPANDD     Z31, Z3, Z3       \
	VPSHUFB    Z3, Z29, Z3       \ // byte1Low[prev1&15]
	VPSRLW     $4, in, Z5        \
	VPANDD     Z31, Z5, Z5       \
	VPSHUFB    Z5, Z28, Z5       \ // byte2High[in>>4]
	VPTERNLOGD $0x80, Z5, Z4, Z3 \ // Z3 &= Z4 & Z5: errors of the pairs
	VPALIGNR   $14, Z2, in, Z4   \ // prev2
	VPSUBUSB   Z27, Z4, Z4       \
	VPALIGNR   $13, Z2, in, Z2   \ // prev3
	VPSUBUSB   Z26, Z2, Z2       \
	VPTERNLOGD $0xa8, Z25, Z2, Z4 \ // Z4 = (Z4 | Z2) & 0x80: must be byte 3 or 4
	VPTERNLOGD $0xf6, Z4, Z3, Z21 // Z21 |= Z3 ^ Z4

// SETUP64 is SETUP32 for the AVX-512 kernel.
#define SETUP64 \
	TESTQ R8, R8          \
	JNZ   3(PC)           \
	CALL  setup64<>(SB)   \
	MOVL  $1, R8

// setup64<> loads the constants of the AVX-512 kernel.
TEXT setup64<>(SB), NOSPLIT|NOFRAME, $0-0
	VPBROADCASTB    bytes<>+0(SB), Z31
	VPBROADCASTB    bytes<>+1(SB), Z27
	VPBROADCASTB    bytes<>+2(SB), Z26
	VPBROADCASTB    bytes<>+3(SB), Z25
	VBROADCASTI32X4 byte1High<>(SB), Z30
	VBROADCASTI32X4 byte1Low<>(SB), Z29
	VBROADCASTI32X4 byte2High<>(SB), Z28
	VMOVDQU64       maxLast<>(SB), Z24
	RET

// func validAVX512(b []byte) bool
TEXT ·validAVX512(SB), NOSPLIT, $0-25
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX

	XORL            R8, R8
	VPXORQ          Z20, Z20, Z20
	VPXORQ          Z21, Z21, Z21
	VPXORQ          Z22, Z22, Z22

loop128:
	CMPQ      CX, $128
	JB        loop64
	VMOVDQU64 (SI), Z0
	VMOVDQU64 64(SI), Z1
	ADDQ      $128, SI
	SUBQ      $128, CX
	VPORQ     Z0, Z1, Z2
	VPMOVB2M  Z2, K1
	KORTESTQ  K1, K1
	JNZ       check128

	// All ASCII: nothing to check but that the block before finished its
	// last sequence.
	VPORQ Z22, Z21, Z21
	JMP   loop128

check128:
	SETUP64
	CHECK64(Z0, Z20)
	CHECK64(Z1, Z0)
	VPSUBUSB  Z24, Z1, Z22
	VMOVDQA64 Z1, Z20
	JMP       loop128

loop64:
	CMPQ      CX, $64
	JB        tail
	VMOVDQU64 (SI), Z0
	ADDQ      $64, SI
	SUBQ      $64, CX
	VPMOVB2M  Z0, K1
	KORTESTQ  K1, K1
	JNZ       check64
	VPORQ     Z22, Z21, Z21
	JMP       tail

check64:
	SETUP64
	CHECK64(Z0, Z20)
	VPSUBUSB  Z24, Z0, Z22
	VMOVDQA64 Z0, Z20

tail:
	// The last CX < 64 bytes, through a masked load that reads nothing past
	// them and zeroes the rest of Z0.
	TESTQ        CX, CX
	JZ           done
	MOVQ         $-1, AX
	SHLQ         CX, AX
	NOTQ         AX
	KMOVQ        AX, K1
	VMOVDQU8.Z   (SI), K1, Z0
	VPMOVB2M     Z0, K2
	KORTESTQ     K2, K2
	JZ           done
	SETUP64
	CHECK64(Z0, Z20)

	// At least one zero (ASCII) byte follows the tail in Z0, against which
	// CHECK64 caught any sequence left unfinished: Z22, the test of the
	// block before, is moot.
	VPXORQ Z22, Z22, Z22

done:
	VPORQ      Z22, Z21, Z21
	VPTESTMQ   Z21, Z21, K1
	KORTESTQ   K1, K1
	SETEQ      ret+24(FP)
	VZEROUPPER
	RET
