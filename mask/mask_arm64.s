//go:build gc && !purego

#include "textflag.h"

// Register use: R0 destination (in place: the buffer), R5 source, R1 bytes
// left, R2 key (32 bits, little-endian), R3 the key doubled to 64 bits, V0
// the key in every 32-bit lane. Vector, 8- and 4-byte steps leave the key as
// it is; only the last 1-3 bytes rotate it.

// func xorNEON(b []byte, key uint32) uint32
TEXT ·xorNEON(SB), NOSPLIT, $0-36
	MOVD  b_base+0(FP), R0
	MOVD  b_len+8(FP), R1
	MOVWU key+24(FP), R2
	CMP   $16, R1
	BLT   tail
	VDUP  R2, V0.S4
	CMP   $64, R1
	BLT   loop16

loop64:
	VLD1   (R0), [V1.B16, V2.B16, V3.B16, V4.B16]
	VEOR   V0.B16, V1.B16, V1.B16
	VEOR   V0.B16, V2.B16, V2.B16
	VEOR   V0.B16, V3.B16, V3.B16
	VEOR   V0.B16, V4.B16, V4.B16
	VST1.P [V1.B16, V2.B16, V3.B16, V4.B16], 64(R0)
	SUB    $64, R1, R1
	CMP    $64, R1
	BGE    loop64
	CMP    $16, R1
	BLT    tail

loop16:
	VLD1   (R0), [V1.B16]
	VEOR   V0.B16, V1.B16, V1.B16
	VST1.P [V1.B16], 16(R0)
	SUB    $16, R1, R1
	CMP    $16, R1
	BGE    loop16

tail:
	TBZ    $3, R1, tail4
	ORR    R2<<32, R2, R3
	MOVD   (R0), R4
	EOR    R3, R4, R4
	MOVD.P R4, 8(R0)

tail4:
	TBZ    $2, R1, tail2
	MOVWU  (R0), R4
	EORW   R2, R4, R4
	MOVW.P R4, 4(R0)

tail2:
	TBZ    $1, R1, tail1
	MOVHU  (R0), R4
	EORW   R2, R4, R4
	MOVH.P R4, 2(R0)
	RORW   $16, R2, R2

tail1:
	TBZ   $0, R1, done
	MOVBU (R0), R4
	EORW  R2, R4, R4
	MOVB  R4, (R0)
	RORW  $8, R2, R2

done:
	MOVW R2, ret+32(FP)
	RET

// func xorCopyNEON(dst, src []byte, key uint32) uint32
TEXT ·xorCopyNEON(SB), NOSPLIT, $0-60
	MOVD  dst_base+0(FP), R0
	MOVD  src_base+24(FP), R5
	MOVD  src_len+32(FP), R1
	MOVWU key+48(FP), R2
	CMP   $16, R1
	BLT   tail
	VDUP  R2, V0.S4
	CMP   $64, R1
	BLT   loop16

loop64:
	VLD1.P 64(R5), [V1.B16, V2.B16, V3.B16, V4.B16]
	VEOR   V0.B16, V1.B16, V1.B16
	VEOR   V0.B16, V2.B16, V2.B16
	VEOR   V0.B16, V3.B16, V3.B16
	VEOR   V0.B16, V4.B16, V4.B16
	VST1.P [V1.B16, V2.B16, V3.B16, V4.B16], 64(R0)
	SUB    $64, R1, R1
	CMP    $64, R1
	BGE    loop64
	CMP    $16, R1
	BLT    tail

loop16:
	VLD1.P 16(R5), [V1.B16]
	VEOR   V0.B16, V1.B16, V1.B16
	VST1.P [V1.B16], 16(R0)
	SUB    $16, R1, R1
	CMP    $16, R1
	BGE    loop16

tail:
	TBZ    $3, R1, tail4
	ORR    R2<<32, R2, R3
	MOVD.P 8(R5), R4
	EOR    R3, R4, R4
	MOVD.P R4, 8(R0)

tail4:
	TBZ    $2, R1, tail2
	MOVWU.P 4(R5), R4
	EORW   R2, R4, R4
	MOVW.P R4, 4(R0)

tail2:
	TBZ    $1, R1, tail1
	MOVHU.P 2(R5), R4
	EORW   R2, R4, R4
	MOVH.P R4, 2(R0)
	RORW   $16, R2, R2

tail1:
	TBZ   $0, R1, done
	MOVBU (R5), R4
	EORW  R2, R4, R4
	MOVB  R4, (R0)
	RORW  $8, R2, R2

done:
	MOVW R2, ret+56(FP)
	RET
