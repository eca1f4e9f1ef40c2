package deadline

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

func pipe(t *testing.T) (net.Conn, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestBindDeadline(t *testing.T) {
	a, _ := pipe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	g := Bind(ctx, a)
	_, err := a.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past ctx's deadline: %v", err)
	}
	if err := g.Err(err); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Err: %v", err)
	}
	if g.Release() {
		t.Fatal("Release after the deadline reported true")
	}
}

func TestBindCancel(t *testing.T) {
	a, _ := pipe(t)
	ctx, cancel := context.WithCancel(context.Background())
	g := Bind(ctx, a)
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read during cancel: %v", err)
	}
	if err := g.Err(errors.New("boom")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err: %v", err)
	}
	if g.Release() {
		t.Fatal("Release after cancel reported true")
	}
}

func TestRelease(t *testing.T) {
	a, b := pipe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	g := Bind(ctx, a)
	if !g.Release() {
		t.Fatal("Release with ctx alive reported false")
	}
	cancel()
	time.Sleep(60 * time.Millisecond) // past the old deadline
	go b.Write([]byte("x"))
	if _, err := a.Read(make([]byte, 1)); err != nil {
		t.Fatalf("read after Release: %v", err)
	}
	if err := Err(context.Background(), errors.New("plain")); err.Error() != "plain" {
		t.Fatalf("Err with a live ctx changed the error: %v", err)
	}
	if Err(ctx, nil) != nil {
		t.Fatal("Err(nil) is not nil")
	}
}
