//go:build gc && !purego

#include "textflag.h"

// The tables of the algorithm: see valid_amd64.s for what their bits mean.
DATA byte1High<>+0(SB)/8, $0x0202020202020202
DATA byte1High<>+8(SB)/8, $0x4915012180808080
GLOBL byte1High<>(SB), RODATA|NOPTR, $16

DATA byte1Low<>+0(SB)/8, $0xcbcbcb8b8383a3e7
DATA byte1Low<>+8(SB)/8, $0xcbcbdbcbcbcbcbcb
GLOBL byte1Low<>(SB), RODATA|NOPTR, $16

DATA byte2High<>+0(SB)/8, $0x0101010101010101
DATA byte2High<>+8(SB)/8, $0x01010101babaaee6
GLOBL byte2High<>(SB), RODATA|NOPTR, $16

// maxLast: the largest byte each of the last 16 positions of the input may
// hold (no lead byte that the end would cut short).
DATA maxLast<>+0(SB)/8, $0xffffffffffffffff
DATA maxLast<>+8(SB)/8, $0xbfdfefffffffffff
GLOBL maxLast<>(SB), RODATA|NOPTR, $16

// Register use:
//
//	R0  input    R1  bytes left (whole blocks)    R2  the tail block
//	V31 0x0F   V30 byte1High   V29 byte1Low   V28 byte2High
//	V27 0x07   V26 0x80   V25 maxLast
//	V24 the previous 16 input bytes checked (zero at the start: ASCII)
//	V23 errors found so far    V22 the unfinished-sequence test of V24
//	V0-V3 the block            V4-V6 temporaries

// CHECK16 ORs into V23 the errors of the 16 bytes in, given that prev holds
// the 16 bytes before them. EXT gives the byte 1, 2 and 3 before each byte.
// A continuation byte after a continuation is legal where the byte two
// before is at least E0 (its top 3 bits all set) or the byte three before is
// at least F0 (top 4 bits set).
#define CHECK16(in, prev) \
	VEXT  $15, in.B16, prev.B16, V4.B16 \ // prev1
	VUSHR $4, V4.B16, V5.B16            \
	VTBL  V5.B16, [V30.B16], V5.B16     \ // byte1High[prev1>>4]
	VAND  V31.B16, V4.B16, V4.B16       \
	VTBL  V4.B16, [V29.B16], V4.B16     \ // byte1Low[prev1&15]
	VAND  V5.B16, V4.B16, V4.B16        \
	VUSHR $4, in.B16, V5.B16            \
	VTBL  V5.B16, [V28.B16], V5.B16     \ // byte2High[in>>4]
	VAND  V5.B16, V4.B16, V4.B16        \ // errors of the pairs
	VEXT  $14, in.B16, prev.B16, V5.B16 \ // prev2
	VUSHR $5, V5.B16, V5.B16            \
	VCMEQ V27.B16, V5.B16, V5.B16       \ // prev2 >= 0xE0
	VEXT  $13, in.B16, prev.B16, V6.B16 \ // prev3
	VUSHR $4, V6.B16, V6.B16            \
	VCMEQ V31.B16, V6.B16, V6.B16       \ // prev3 >= 0xF0
	VORR  V6.B16, V5.B16, V5.B16        \
	VAND  V26.B16, V5.B16, V5.B16       \ // 0x80 where a continuation must be byte 3 or 4
	VEOR  V5.B16, V4.B16, V4.B16        \ // two continuations exactly there
	VORR  V4.B16, V23.B16, V23.B16

// ASCII16X4 sets R4 to the top bits of the 64 bytes in V0-V3: zero if they
// are all ASCII.
#define ASCII16X4 \
	VORR V0.B16, V1.B16, V4.B16 \
	VORR V2.B16, V3.B16, V5.B16 \
	VORR V4.B16, V5.B16, V4.B16 \
	VMOV V4.D[0], R4            \
	VMOV V4.D[1], R5            \
	ORR  R5, R4, R4             \
	AND  $0x8080808080808080, R4, R4

// func utf8NEON(blocks []byte, tail *[64]byte) bool
TEXT ·utf8NEON(SB), NOSPLIT, $0-33
	MOVD blocks_base+0(FP), R0
	MOVD blocks_len+8(FP), R1
	MOVD tail+24(FP), R2

	MOVD  $byte1High<>(SB), R3
	VLD1  (R3), [V30.B16]
	MOVD  $byte1Low<>(SB), R3
	VLD1  (R3), [V29.B16]
	MOVD  $byte2High<>(SB), R3
	VLD1  (R3), [V28.B16]
	MOVD  $maxLast<>(SB), R3
	VLD1  (R3), [V25.B16]
	VMOVI $15, V31.B16
	VMOVI $7, V27.B16
	VMOVI $128, V26.B16
	VEOR  V24.B16, V24.B16, V24.B16
	VEOR  V23.B16, V23.B16, V23.B16
	VEOR  V22.B16, V22.B16, V22.B16

loop:
	CBZ    R1, tail
	VLD1.P 64(R0), [V0.B16, V1.B16, V2.B16, V3.B16]
	SUB    $64, R1, R1
	ASCII16X4
	CBNZ   R4, check

	// All ASCII: nothing to check but that the block before finished its
	// last sequence.
	VORR V22.B16, V23.B16, V23.B16
	B    loop

check:
	CHECK16(V0, V24)
	CHECK16(V1, V0)
	CHECK16(V2, V1)
	CHECK16(V3, V2)
	VUMAX V25.B16, V3.B16, V22.B16
	VEOR  V25.B16, V22.B16, V22.B16 // non-zero where V3 > maxLast
	VORR  V3.B16, V3.B16, V24.B16
	B     loop

tail:
	VLD1 (R2), [V0.B16, V1.B16, V2.B16, V3.B16]
	ASCII16X4
	CBZ  R4, done
	CHECK16(V0, V24)
	CHECK16(V1, V0)
	CHECK16(V2, V1)
	CHECK16(V3, V2)

	// The tail is followed by at least one zero (ASCII) byte, against
	// which CHECK16 caught any sequence left unfinished: V22, the test of
	// the block before, is moot.
	VEOR V22.B16, V22.B16, V22.B16

done:
	VORR  V22.B16, V23.B16, V23.B16
	VMOV  V23.D[0], R4
	VMOV  V23.D[1], R5
	ORR   R5, R4, R4
	CMP   $0, R4
	CSET  EQ, R4
	MOVB  R4, ret+32(FP)
	RET
