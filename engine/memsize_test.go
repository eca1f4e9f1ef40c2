package engine

import (
	"bytes"
	"errors"
	"net"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testutil"
)

// idleConnBound is the most heap New may allocate for a connection with
// the default Config (bytes, amd64 and arm64). An open, idle WebSocket
// costs this plus the network connection and the handshake's results;
// over HTTP/2 (RFC 8441) the network connection is shared, so this is most
// of what each WebSocket costs, and the HTTP/2 target (a fifth of an
// HTTP/1.1 connection's ~9 KiB) depends on it staying small. Today New
// makes one object of 384 B (Conn, 384 B, is a size class of its own); the
// bound leaves one size class (416 B) of room. Before the Conn was shrunk it was
// 1,520 B in 2 objects (a 512 B read array and a 125 B control buffer
// inline, a 96 B Config copy, a channel). If this fails, move what the new
// state needs behind a pointer made when it is first used, or share it.
const idleConnBound = 416

// newCost returns the bytes and objects New allocates for one connection
// with cfg, averaged over n constructions on net.Pipe ends made beforehand
// (see testutil.AllocCost).
func newCost(n int, cfg *Config) (bytes, objects float64) {
	bytes, objects, _ = testutil.AllocCost(n, func() func(int) {
		ncs := make([]net.Conn, n)
		for i := range ncs {
			ncs[i], _ = net.Pipe()
		}
		cs := make([]*Conn, n)
		return func(i int) { cs[i] = New(ncs[i], nil, cfg) }
	})
	return bytes, objects
}

// TestIdleConnAlloc bounds what New allocates (see idleConnBound). It
// counts bytes, not time, so it is deterministic.
func TestIdleConnAlloc(t *testing.T) {
	cases := []struct {
		name string
		cfg  *Config
	}{
		{"nil", nil},
		{"zero", &Config{}},
		// The first connection with these options copies the Config;
		// the rest share that copy.
		{"custom", &Config{ReadBufferSize: 4096, WriteBufferSize: 4096, MaxMessageSize: 1 << 20}},
	}
	for _, tc := range cases {
		New(&discardConn{}, nil, tc.cfg) // the first copies a custom Config
		b, o := newCost(1000, tc.cfg)
		t.Logf("%s Config: New allocates %.0f B in %.1f objects per connection (Conn is %d B)", tc.name, b, o, reflect.TypeFor[Conn]().Size())
		if b > idleConnBound || o > 1 {
			t.Errorf("%s Config: New allocates %.0f B in %.1f objects, want at most %d B in 1 (an idle connection must stay small; see idleConnBound)",
				tc.name, b, o, idleConnBound)
			logFields(t, reflect.TypeFor[Conn]())
			logFields(t, reflect.TypeFor[reader]())
			logFields(t, reflect.TypeFor[writer]())
		}
	}
}

// logFields logs the offset and size of each field of a struct type.
func logFields(t *testing.T, ty reflect.Type) {
	t.Logf("%s: %d B", ty.Name(), ty.Size())
	for i := range ty.NumField() {
		f := ty.Field(i)
		t.Logf("  %-12s offset %4d size %4d", f.Name, f.Offset, f.Type.Size())
	}
}

// TestIdleConnNoBuffers checks that New takes no pooled buffer and that
// a connection that sent and received a small message and then went idle
// gives back every pooled buffer (it keeps its small read array and one
// small write buffer, at most keepBuf bytes).
func TestIdleConnNoBuffers(t *testing.T) {
	c, srv := pair(t, nil)
	if c.r.rb != nil || c.r.smallBuf.b != nil || c.w.pend != nil || c.w.spare != nil || c.w.cond != nil || c.r.pong != nil || c.dl.Load() != nil {
		t.Fatalf("New made state it does not need yet: rb %v small %v pend %v spare %v cond %v pong %v deadlines %v",
			c.r.rb, c.r.smallBuf.b != nil, c.w.pend, c.w.spare, c.w.cond, c.r.pong, c.dl.Load())
	}
	if err := c.SendText("hello"); err != nil {
		t.Fatal(err)
	}
	srv.readFrame()
	srv.write(frame(true, OpText, []byte("hi")))
	if _, _, err := c.Recv(); err != nil {
		t.Fatal(err)
	}
	if (c.r.rb != nil && c.r.rb != &c.r.smallBuf) || c.r.msg == nil || cap(c.r.msg.b) > keepBuf {
		t.Errorf("idle after a small message: read buffer %v, message buffer %v", c.r.rb, c.r.msg)
	}
	if c.w.spare != nil || (c.w.pend != nil && cap(c.w.pend.b) > keepBuf) {
		t.Errorf("idle after a small send: pend %v spare %v", c.w.pend, c.w.spare)
	}
}

// TestSharedConfig checks that connections with equal hook-free Configs
// share one copy, and that one with a hook or a different value does not.
func TestSharedConfig(t *testing.T) {
	a := New(&discardConn{}, nil, &Config{ReadBufferSize: 8192, IOTimeout: time.Minute})
	b := New(&discardConn{}, nil, &Config{ReadBufferSize: 8192, IOTimeout: time.Minute})
	if a.cfg != b.cfg {
		t.Error("equal Configs are not shared")
	}
	if a.cfg.ReadBufferSize != 8192 || a.cfg.WriteBufferSize != defaultWriteBufferSize {
		t.Errorf("shared Config %+v lost a value or a default", *a.cfg)
	}
	if z := New(&discardConn{}, nil, &Config{}); z.cfg != New(&discardConn{}, nil, nil).cfg {
		t.Error("a zero Config does not share the defaults")
	}
	if c := New(&discardConn{}, nil, &Config{ReadBufferSize: 4096, IOTimeout: time.Minute}); c.cfg == a.cfg {
		t.Error("different Configs share one copy")
	}
	user := &Config{ReadBufferSize: 8192, IOTimeout: time.Minute, MaskKey: func() [4]byte { return [4]byte{} }}
	if d := New(&discardConn{}, nil, user); d.cfg == a.cfg || d.cfg == user || d.cfg.MaskKey == nil {
		t.Error("a Config with a hook is shared or not copied")
	}
}

// TestSharedConfigFields makes sure every Config field is either compared
// by equal or makes a Config not plain: a field added to Config and
// forgotten there would let connections with different values share one.
func TestSharedConfigFields(t *testing.T) {
	ty := reflect.TypeFor[Config]()
	for i := range ty.NumField() {
		var c Config
		f := reflect.ValueOf(&c).Elem().Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(12345)
		case reflect.Func, reflect.Pointer:
			f.Set(reflect.New(f.Type()).Elem())
			if f.Kind() == reflect.Pointer {
				f.Set(reflect.New(f.Type().Elem()))
			} else {
				f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value { return nil }))
			}
			if c.plain() {
				t.Errorf("Config.%s set, but plain reports true", ty.Field(i).Name)
			}
			continue
		default:
			t.Fatalf("Config.%s: kind %v not handled by this test", ty.Field(i).Name, f.Kind())
		}
		if c.equal(&Config{}) {
			t.Errorf("Config.%s differs, but equal reports true", ty.Field(i).Name)
		}
	}
}

// TestControlFrameAcrossReads: control payloads are read in the read
// buffer, not in an array of their own. A ping whose payload arrives in two
// pieces, with a read timeout between them, and runs past the end of the
// small read array is still returned whole by RecvFrame and answered with
// the same payload.
func TestControlFrameAcrossReads(t *testing.T) {
	c, s := pair(t, nil)
	ping := frame(true, OpPing, bytes.Repeat([]byte("0123456789abc"), 10)[:125])
	data := frame(true, OpBinary, make([]byte, 446)) // 4-byte header: the ping starts at 450
	s.write(data, ping[:40])
	if f, err := c.RecvFrame(); err != nil || f.Opcode != OpBinary || len(f.Payload) != 446 {
		t.Fatalf("data frame: %v %d B %v", f.Opcode, len(f.Payload), err)
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.RecvFrame(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("half a ping: want a deadline error, got %v", err)
	}
	c.SetReadDeadline(time.Time{})
	s.write(ping[40:])
	f, err := c.RecvFrame()
	if err != nil || f.Opcode != OpPing || !bytes.Equal(f.Payload, ping[2:]) {
		t.Fatalf("ping: %v %q %v", f.Opcode, f.Payload, err)
	}
	h, p, err := s.readFrame()
	if err != nil || Opcode(h.OpCode) != OpPong || !bytes.Equal(p, ping[2:]) {
		t.Fatalf("pong: %+v %q %v", h, p, err)
	}
}
