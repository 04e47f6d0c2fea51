package rfc2217

import (
	"io"
	"testing"
	"time"
)

// BenchmarkThroughput pushes data from a client through a server into a
// pipe: the host-side cost of RFC 2217 per byte (IAC escaping included,
// one byte in 256 is 0xFF).
func BenchmarkThroughput(b *testing.B) {
	bn := newBenchB(b)
	c, err := Dial(b.Context(), bn.addr, 115200)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	block := make([]byte, 16<<10)
	for i := range block {
		block[i] = byte(i)
	}
	done := make(chan error, 1)
	go func() {
		bn.device.SetReadTimeout(10 * time.Second)
		_, err := io.CopyN(io.Discard, bn.device, int64(b.N)*int64(len(block)))
		done <- err
	}()
	b.SetBytes(int64(len(block)))
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(block); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRoundTrip is one byte to the board and its echo back: the
// latency RFC 2217 adds to every ROM command on a local line.
func BenchmarkRoundTrip(b *testing.B) {
	bn := newBenchB(b)
	c, err := Dial(b.Context(), bn.addr, 115200)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	go func() {
		buf := make([]byte, 64)
		bn.device.SetReadTimeout(time.Hour)
		for {
			n, err := bn.device.Read(buf)
			if err != nil {
				return
			}
			bn.device.Write(buf[:n])
		}
	}()
	one := []byte{0xC0}
	buf := make([]byte, 1)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(one); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetDTR is one SET-CONTROL and its answer, which a reset
// sequence pays per line change.
func BenchmarkSetDTR(b *testing.B) {
	bn := newBenchB(b)
	c, err := Dial(b.Context(), bn.addr, 115200)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for i := range b.N {
		if err := c.SetDTR(i%2 == 0); err != nil {
			b.Fatal(err)
		}
	}
}
