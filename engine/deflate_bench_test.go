package engine

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/gobwas/ws"
	"github.com/klauspost/compress/flate"

	"github.com/wsclient/wsclient/internal/testutil"
)

func jsonLike(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","tags":["a","b"],"score":%d},`, i*7919%100000, i%500, i%100)
	}
	return b.Bytes()[:n]
}

// BenchmarkDeflate measures compressed send (to io.Discard) and receive
// (from a pre-built stream) of JSON-like messages; b.SetBytes counts the
// uncompressed size.
func BenchmarkDeflate(b *testing.B) {
	for _, n := range []int{1 << 10, 64 << 10} {
		msg := jsonLike(n)
		for _, takeover := range []bool{true, false} {
			name := strconv.Itoa(n)
			if !takeover {
				name += "/no_context_takeover"
			}
			b.Run("send/"+name, func(b *testing.B) {
				c := New(&discardConn{}, nil, &Config{Deflate: &Deflate{ClientNoContextTakeover: !takeover}})
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := c.Send(OpText, msg); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("receive/"+strconv.Itoa(n), func(b *testing.B) {
			var z bytes.Buffer
			fw, _ := flate.NewWriter(&z, flate.BestSpeed)
			fw.Write(msg)
			fw.Flush()
			p := z.Bytes()[:z.Len()-4]
			stream := testutil.Frame(true, rsv1, ws.OpText, p)
			c := New(&discardConn{stream: stream}, nil, &Config{Deflate: &Deflate{ServerNoContextTakeover: true}})
			b.ReportMetric(float64(len(p))/float64(n), "ratio")
			b.SetBytes(int64(n))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, got, err := c.Recv(); err != nil || len(got) != n {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
