//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"

// func xor(b []byte, key uint32) uint32
//
// The dispatch: a tail call (same frame, same arguments) to the best kernel
// in use that pays off at this length (see minAVX2 in mask_amd64.go). Inputs
// under 16 bytes go straight to the scalar tail, as every assembly kernel
// would send them, one jump sooner. The paths are laid out so that the
// common ones take few jumps: at a few bytes each taken jump shows.
TEXT ·xor(SB), NOSPLIT, $0-36
	CMPQ b_len+8(FP), $16
	JB   tiny
	CMPB ·useAVX512(SB), $0
	JEQ  avx2
	JMP  ·xorAVX512(SB)

tiny:
	CMPB ·useSSE2(SB), $0
	JEQ  generic
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVL key+24(FP), AX
	JMP  tailXor<>(SB)

avx2:
	CMPB ·useAVX2(SB), $0
	JEQ  sse2
	CMPQ b_len+8(FP), $const_minAVX2
	JB   sse2
	JMP  ·xorAVX2(SB)

sse2:
	CMPB ·useSSE2(SB), $0
	JEQ  generic
	JMP  ·xorSSE2(SB)

generic:
	JMP ·xorGeneric(SB)

// func xorCopy(dst, src []byte, key uint32) uint32
TEXT ·xorCopy(SB), NOSPLIT, $0-60
	MOVQ src_len+32(FP), CX
	CMPQ dst_len+8(FP), CX
	JB   short
	CMPB ·useAVX512(SB), $0
	JEQ  avx2
	JMP  ·xorCopyAVX512(SB)

avx2:
	CMPB ·useAVX2(SB), $0
	JEQ  sse2
	CMPQ CX, $const_minAVX2
	JB   sse2
	JMP  ·xorCopyAVX2(SB)

sse2:
	CMPB ·useSSE2(SB), $0
	JEQ  generic
	JMP  ·xorCopySSE2(SB)

generic:
	JMP ·xorCopyGeneric(SB)

short:
	JMP ·panicShortDst(SB)

// Register use in every kernel:
//
//	DI  destination (in place: the buffer)   SI  source (copying kernels)
//	CX  bytes left                           AX  key, 32 bits, little-endian
//	X0/Y0/Z0  key broadcast to every 32-bit lane
//
// The vector steps and the 8- and 4-byte steps cover whole multiples of 4
// bytes and leave the key as it is; only the last 1-3 bytes rotate it.
//
// In the in-place kernels stores overwrite exactly the bytes they read (same
// address, same size), so masking the same buffer again soon (a benchmark
// loop, or several passes) gets its loads forwarded from the stores still in
// flight. Overlapping chunks and masked loads after masked stores defeat
// that forwarding; only the copying kernel, which never reads what it wrote,
// uses them.

// tailXor<> masks the last CX < 16 bytes at DI in place with the key in AX,
// 8, 4, 2 then 1 bytes at a time, and stores the rotated key as the result
// of an in-place kernel, ret+32(FP). The dispatch and the kernels jump here
// (a tail call, same frame), the latter after a VZEROUPPER.
TEXT tailXor<>(SB), NOSPLIT|NOFRAME, $0-0
	TESTQ CX, CX
	JZ    done
	TESTQ $8, CX
	JZ    tail4
	MOVL  AX, DX
	SHLQ  $32, DX
	ORQ   AX, DX
	XORQ  DX, (DI)
	ADDQ  $8, DI

tail4:
	TESTQ $4, CX
	JZ    tail2
	XORL  AX, (DI)
	ADDQ  $4, DI

tail2:
	TESTQ $2, CX
	JZ    tail1
	XORW  AX, (DI)
	ADDQ  $2, DI
	RORL  $16, AX

tail1:
	TESTQ $1, CX
	JZ    done
	XORB  AX, (DI)
	RORL  $8, AX

done:
	MOVL AX, ret+32(FP)
	RET

// tailCopy<> is tailXor<> for the copying kernels: from SI to DI, result in
// ret+56(FP).
TEXT tailCopy<>(SB), NOSPLIT|NOFRAME, $0-0
	TESTQ CX, CX
	JZ    done
	TESTQ $8, CX
	JZ    tail4
	MOVL  AX, DX
	SHLQ  $32, DX
	ORQ   AX, DX
	XORQ  (SI), DX
	MOVQ  DX, (DI)
	ADDQ  $8, SI
	ADDQ  $8, DI

tail4:
	TESTQ $4, CX
	JZ    tail2
	MOVL  (SI), DX
	XORL  AX, DX
	MOVL  DX, (DI)
	ADDQ  $4, SI
	ADDQ  $4, DI

tail2:
	TESTQ   $2, CX
	JZ      tail1
	MOVWLZX (SI), DX
	XORL    AX, DX
	MOVW    DX, (DI)
	ADDQ    $2, SI
	ADDQ    $2, DI
	RORL    $16, AX

tail1:
	TESTQ   $1, CX
	JZ      done
	MOVBLZX (SI), DX
	XORL    AX, DX
	MOVB    DX, (DI)
	RORL    $8, AX

done:
	MOVL AX, ret+56(FP)
	RET

// func xorSSE2(b []byte, key uint32) uint32
TEXT ·xorSSE2(SB), NOSPLIT, $0-36
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVL key+24(FP), AX
	CMPQ CX, $16
	JB   tail

	MOVQ   AX, X0
	PSHUFD $0, X0, X0
	CMPQ   CX, $64
	JB     loop16

loop64:
	MOVOU (DI), X1
	MOVOU 16(DI), X2
	MOVOU 32(DI), X3
	MOVOU 48(DI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, (DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   loop64
	CMPQ  CX, $16
	JB    tail

loop16:
	MOVOU (DI), X1
	PXOR  X0, X1
	MOVOU X1, (DI)
	ADDQ  $16, DI
	SUBQ  $16, CX
	CMPQ  CX, $16
	JAE   loop16

tail:
	JMP tailXor<>(SB)

// func xorCopySSE2(dst, src []byte, key uint32) uint32
TEXT ·xorCopySSE2(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVL key+48(FP), AX
	CMPQ CX, $16
	JB   tail

	MOVQ   AX, X0
	PSHUFD $0, X0, X0
	CMPQ   CX, $64
	JB     loop16

loop64:
	MOVOU (SI), X1
	MOVOU 16(SI), X2
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, (DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, SI
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   loop64
	CMPQ  CX, $16
	JB    tail

loop16:
	MOVOU (SI), X1
	PXOR  X0, X1
	MOVOU X1, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	SUBQ  $16, CX
	CMPQ  CX, $16
	JAE   loop16

tail:
	JMP tailCopy<>(SB)

// func xorAVX2(b []byte, key uint32) uint32
TEXT ·xorAVX2(SB), NOSPLIT, $0-36
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVL key+24(FP), AX
	CMPQ CX, $16
	JB   tail

	MOVQ         AX, X0
	VPBROADCASTD X0, Y0
	CMPQ         CX, $128
	JB           loop32

loop128:
	VPXOR   (DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     loop128

loop32:
	CMPQ    CX, $32
	JB      last16
	VPXOR   (DI), Y0, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     loop32

last16:
	CMPQ    CX, $16
	JB      vzeroupper
	VPXOR   (DI), X0, X1
	VMOVDQU X1, (DI)
	ADDQ    $16, DI
	SUBQ    $16, CX

vzeroupper:
	VZEROUPPER

tail:
	JMP tailXor<>(SB)

// func xorCopyAVX2(dst, src []byte, key uint32) uint32
TEXT ·xorCopyAVX2(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVL key+48(FP), AX
	CMPQ CX, $16
	JB   tail

	MOVQ         AX, X0
	VPBROADCASTD X0, Y0
	CMPQ         CX, $128
	JB           loop32

loop128:
	VPXOR   (SI), Y0, Y1
	VPXOR   32(SI), Y0, Y2
	VPXOR   64(SI), Y0, Y3
	VPXOR   96(SI), Y0, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     loop128

loop32:
	CMPQ    CX, $32
	JB      last16
	VPXOR   (SI), Y0, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     loop32

last16:
	CMPQ    CX, $16
	JB      vzeroupper
	VPXOR   (SI), X0, X1
	VMOVDQU X1, (DI)
	ADDQ    $16, SI
	ADDQ    $16, DI
	SUBQ    $16, CX

vzeroupper:
	VZEROUPPER

tail:
	JMP tailCopy<>(SB)

// func xorAVX512(b []byte, key uint32) uint32
//
// 256 bytes per iteration, then 64 (as two 32-byte halves), then 32 and 16,
// then the scalar tail. The 64-byte step uses Y registers because a 64-byte
// store is forwarded more slowly to a 64-byte load of the same bytes than
// two 32-byte ones: 3.50 against 2.98 ns for Apply of 64 bytes in a loop
// (the 256-byte loop keeps Z registers: 8.5 against 11.4 ns at 1 KiB).
// From minPrefetch bytes on, the 256-byte loop also prefetches 1 KiB ahead.
// No masked stores here, unlike xorCopyAVX512: measured on AMD Zen 4, a
// masked store is not forwarded to a load of the same bytes, so masking a
// buffer that was just masked (a benchmark loop, or any second pass) waits
// for it: about 3 ns more at 1-31 bytes and at 125 (5.6 against 2.5 ns;
// 5.3 against 3.8 ns), and slower on a mix of lengths 1-64 too (4.3 against
// 3.9 ns).
TEXT ·xorAVX512(SB), NOSPLIT, $0-36
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVL key+24(FP), AX
	CMPQ CX, $16
	JB   tail

	VPBROADCASTD AX, Z0
	CMPQ         CX, $64
	JB           steps
	CMPQ         CX, $256
	JB           loop64
	CMPQ         CX, $const_minPrefetch
	JAE          prefetch

loop256:
	VPXORD    (DI), Z0, Z1
	VPXORD    64(DI), Z0, Z2
	VPXORD    128(DI), Z0, Z3
	VPXORD    192(DI), Z0, Z4
	VMOVDQU64 Z1, (DI)
	VMOVDQU64 Z2, 64(DI)
	VMOVDQU64 Z3, 128(DI)
	VMOVDQU64 Z4, 192(DI)
	ADDQ      $256, DI
	SUBQ      $256, CX
	CMPQ      CX, $256
	JAE       loop256
	TESTQ     CX, CX
	JNZ       rest

done:
	VZEROUPPER
	MOVL AX, ret+32(FP)
	RET

rest:
	CMPQ CX, $64
	JB   steps

loop64:
	VPXORD    (DI), Y0, Y1
	VPXORD    32(DI), Y0, Y2
	VMOVDQU64 Y1, (DI)
	VMOVDQU64 Y2, 32(DI)
	ADDQ      $64, DI
	SUBQ      $64, CX
	CMPQ      CX, $64
	JAE       loop64
	TESTQ     CX, CX
	JZ        done

steps:
	CMPQ      CX, $32
	JB        step16
	VPXORD    (DI), Y0, Y1
	VMOVDQU64 Y1, (DI)
	ADDQ      $32, DI
	SUBQ      $32, CX

step16:
	CMPQ      CX, $16
	JB        vzeroupper
	VPXORD    (DI), X0, X1
	VMOVDQU64 X1, (DI)
	ADDQ      $16, DI
	SUBQ      $16, CX

vzeroupper:
	VZEROUPPER

tail:
	JMP tailXor<>(SB)

	// Large inputs: the same as loop256, fetching the lines 1 KiB ahead
	// into the cache, until the last 1 KiB + 256 bytes.
prefetch:
	SUBQ $1024, CX

prefetch256:
	PREFETCHT0 1024(DI)
	PREFETCHT0 1088(DI)
	PREFETCHT0 1152(DI)
	PREFETCHT0 1216(DI)
	VPXORD     (DI), Z0, Z1
	VPXORD     64(DI), Z0, Z2
	VPXORD     128(DI), Z0, Z3
	VPXORD     192(DI), Z0, Z4
	VMOVDQU64  Z1, (DI)
	VMOVDQU64  Z2, 64(DI)
	VMOVDQU64  Z3, 128(DI)
	VMOVDQU64  Z4, 192(DI)
	ADDQ       $256, DI
	SUBQ       $256, CX
	CMPQ       CX, $256
	JAE        prefetch256
	ADDQ       $1024, CX
	JMP        loop256

// ENDKEY sets DX to the key for the byte after CX more bytes, given in R8
// the key doubled to 64 bits: the one starting CX%4 bytes into it (BMI2).
#define ENDKEY \
	MOVL  CX, BX \
	ANDL  $3, BX \
	SHLL  $3, BX \
	SHRXQ BX, R8, DX

// func xorCopyAVX512(dst, src []byte, key uint32) uint32
//
// 256 bytes per iteration, then 64, then the last 1-63 bytes with one masked
// load, XOR and masked store of the 64-byte window that ends where the data
// ends: masked-off bytes are neither read nor written, and the window stays
// within src and dst. It must: masked-off bytes still count for memory
// ordering, and a window reaching past the data into memory stored or loaded
// just before (src and dst side by side) made a 96-byte copy take 7.5 ns
// instead of 2.7, a 16-byte one 5.3 instead of 2.7 (AMD Zen 4 class).
//
// Under 64 bytes no such window exists, and the bytes are masked as two
// chunks of 32, 16, 8 or 4 bytes, the first and the last, which overlap:
// both are loaded before either is stored, so that the bytes they share are
// written twice with the same value, even when dst and src are the same
// slice. Under 4 bytes the scalar tail does it.
TEXT ·xorCopyAVX512(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVL key+48(FP), AX
	CMPQ CX, $4
	JB   tail
	MOVL AX, R8
	SHLQ $32, R8
	ORQ  AX, R8
	CMPQ CX, $16
	JB   pair4

	VPBROADCASTD AX, Z0
	CMPQ         CX, $64
	JB           pair16
	CMPQ         CX, $256
	JB           loop64

loop256:
	VPXORD    (SI), Z0, Z1
	VPXORD    64(SI), Z0, Z2
	VPXORD    128(SI), Z0, Z3
	VPXORD    192(SI), Z0, Z4
	VMOVDQU64 Z1, (DI)
	VMOVDQU64 Z2, 64(DI)
	VMOVDQU64 Z3, 128(DI)
	VMOVDQU64 Z4, 192(DI)
	ADDQ      $256, SI
	ADDQ      $256, DI
	SUBQ      $256, CX
	CMPQ      CX, $256
	JAE       loop256
	CMPQ      CX, $64
	JB        rest

loop64:
	VPXORD    (SI), Z0, Z1
	VMOVDQU64 Z1, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $64, CX
	CMPQ      CX, $64
	JAE       loop64

	// The last CX < 64 bytes: the window is the 64 bytes ending at the end,
	// its high CX bytes enabled. Its first byte is a whole number of 4 bytes
	// before the end, so its key is the one after the end, the result.
rest:
	MOVL         AX, DX
	TESTQ        CX, CX
	JZ           done
	ENDKEY
	LEAQ         -64(SI)(CX*1), SI
	LEAQ         -64(DI)(CX*1), DI
	VPBROADCASTD DX, Z0
	MOVQ         $64, BX
	SUBQ         CX, BX
	MOVQ         BX, CX
	MOVQ         $-1, BX
	SHLQ         CX, BX
	KMOVQ        BX, K1
	VMOVDQU8.Z   (SI), K1, Z1
	VPXORD       Z0, Z1, Z1
	VMOVDQU8     Z1, K1, (DI)

done:
	VZEROUPPER
	MOVL DX, ret+56(FP)
	RET

	// 16-63 bytes: two chunks of 16 (up to 32 bytes) or 32.
pair16:
	ENDKEY
	VPBROADCASTD DX, Z1
	CMPQ         CX, $32
	JA           pair32
	VPXORD       (SI), X0, X2
	VPXORD       -16(SI)(CX*1), X1, X3
	VMOVDQU64    X2, (DI)
	VMOVDQU64    X3, -16(DI)(CX*1)
	JMP          done

pair32:
	VPXORD    (SI), Y0, Y2
	VPXORD    -32(SI)(CX*1), Y1, Y3
	VMOVDQU64 Y2, (DI)
	VMOVDQU64 Y3, -32(DI)(CX*1)
	JMP       done

	// 4-15 bytes: two chunks of 4 (up to 8 bytes) or 8.
pair4:
	ENDKEY
	CMPQ CX, $8
	JB   four
	MOVL DX, R9
	SHLQ $32, R9
	ORQ  DX, R9
	MOVQ (SI), R10
	MOVQ -8(SI)(CX*1), R11
	XORQ R8, R10
	XORQ R9, R11
	MOVQ R10, (DI)
	MOVQ R11, -8(DI)(CX*1)
	MOVL DX, ret+56(FP)
	RET

four:
	MOVL (SI), R10
	MOVL -4(SI)(CX*1), R11
	XORL AX, R10
	XORL DX, R11
	MOVL R10, (DI)
	MOVL R11, -4(DI)(CX*1)
	MOVL DX, ret+56(FP)
	RET

tail:
	JMP tailCopy<>(SB)
