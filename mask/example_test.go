package mask_test

import (
	"fmt"

	"github.com/wsclient/wsclient/mask"
)

func ExampleApply() {
	// The single-frame masked text message "Hello" of RFC 6455 §5.7.
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	payload := []byte("Hello")

	pos := mask.Apply(payload, key, 0)
	fmt.Printf("% x (next position %d)\n", payload, pos)

	mask.Apply(payload, key, 0) // unmasking is the same operation
	fmt.Printf("%s\n", payload)
	// Output:
	// 7f 9f 4d 51 58 (next position 1)
	// Hello
}

func ExampleCopy() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := []byte("Hello")
	dst := make([]byte, len(src))

	// Mask in two pieces; the returned position carries over.
	pos := mask.Copy(dst[:2], src[:2], key, 0)
	mask.Copy(dst[2:], src[2:], key, pos)
	fmt.Printf("% x\n", dst)
	// Output:
	// 7f 9f 4d 51 58
}
