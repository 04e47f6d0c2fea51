package rfc2217

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

// FuzzServerInput feeds arbitrary client bytes to a server session: it
// must neither panic nor hang, and must end when the client leaves.
func FuzzServerInput(f *testing.F) {
	f.Add([]byte{0xFF, 0xFB, 0x2C, 0xFF, 0xFA, 0x2C, 0x01, 0x00, 0x01, 0xC2, 0x00, 0xFF, 0xF0})
	f.Add([]byte{0xFF, 0xFA, 0x2C, 0x05, 0x08, 0xFF, 0xF0, 'A', 0xFF, 0xFF})
	f.Add([]byte{0xFF, 0xFA, 0x2C, 0x0C, 0x01, 0xFF, 0xF0, 0xFF, 0xFA, 0x2C, 0x01, 0xFF, 0xF0})
	f.Add([]byte{0xFF, 0xFA, 0x2C, 0x0B, 0xFF, 0xFF, 0xFF, 0xF0, 0xFF, 0xFD, 0x18, 0xFF})
	f.Fuzz(func(t *testing.T, in []byte) {
		host, device := portio.Pipe()
		defer device.Close()
		go io.Copy(io.Discard, device) // the board reads whatever arrives
		client, server := net.Pipe()
		go io.Copy(io.Discard, client) // and so does the client
		done := make(chan error, 1)
		go func() { done <- (&Server{}).ServeConn(context.Background(), server, host) }()
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write(in)
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("session did not end after the client left")
		}
	})
}
