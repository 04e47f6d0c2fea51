package board_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/rfc2217"
	"fleetline/sim/line"
)

// A host that holds a slot open over RFC 2217, without touching the lines,
// reads the next board's power-on banner when the board is swapped, and
// nothing resets the boards meanwhile.
func TestSwapSeenOverRFC2217(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := line.Start(ctx, line.Config{Boards: 2, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b := l.Boards()[1]
	port, err := rfc2217.Dial(ctx, l.Endpoints()[1].URL, 115200)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	if err := port.SetReadTimeout(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	old := b.MAC()
	if err := b.Swap(); err != nil {
		t.Fatal(err)
	}
	want := "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\n"
	var got []byte
	buf := make([]byte, 512)
	for !bytes.Contains(got, []byte(want)) {
		n, err := port.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("waiting for the banner: %v; got %q", err, got)
		}
	}
	if strings.Count(string(got), "rst:") != 1 {
		t.Fatalf("more than one reset seen: %q", got)
	}
	if b.MAC() == old || b.MAC() == l.Boards()[0].MAC() {
		t.Fatalf("swapped board's MAC %s (was %s, slot 0 %s)", b.MAC(), old, l.Boards()[0].MAC())
	}
	if n := b.Resets(); n != 0 {
		t.Fatalf("resets %d after a passive connection", n)
	}
}
