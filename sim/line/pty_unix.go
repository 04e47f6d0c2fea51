//go:build linux || darwin

package line

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"fleetline/flasher/portio"
	"fleetline/sim/board"
)

// servePTY serves b on a new pseudo-terminal: bytes only. A pty carries no
// modem lines (TIOCMSET fails with ENOTTY), so the host cannot reset the
// board: it starts in download mode and stays in whatever mode it gets to.
func servePTY(ctx context.Context, b *board.Board, wg *sync.WaitGroup, fail func(error)) (string, func() error, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return "", nil, fmt.Errorf("open pty: %w", err)
	}
	// Raw mode on our side keeps the line discipline from echoing the
	// chip's output back to it before a client sets its own mode.
	if err := makeRaw(int(slave.Fd())); err != nil {
		master.Close()
		slave.Close()
		return "", nil, fmt.Errorf("raw mode on %s: %w", slave.Name(), err)
	}
	p, err := b.Open()
	if err != nil {
		master.Close()
		slave.Close()
		return "", nil, err
	}
	p.SetReadTimeout(time.Hour)
	// No host can reset a pty board into download mode, so it starts there,
	// as if BOOT were held while it was plugged in.
	b.PressReset(true)
	wg.Add(2)
	go func() { // board → pty
		defer wg.Done()
		buf := make([]byte, 4096)
		for {
			n, err := p.Read(buf)
			if n > 0 {
				if _, werr := master.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil && !errors.Is(err, portio.ErrTimeout) {
				return
			}
		}
	}()
	go func() { // pty → board
		defer wg.Done()
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				if _, werr := p.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
					// EIO when no client has the slave open is not fatal on
					// Linux only while we hold the slave ourselves.
					fail(fmt.Errorf("pty %s: %w", slave.Name(), err))
				}
				return
			}
		}
	}()
	closer := func() error {
		p.Close()
		master.Close()
		return slave.Close()
	}
	return slave.Name(), closer, nil
}

// makeRaw is cfmakeraw(3): no echo, no line editing, no signals, no CR/NL
// translation, 8-bit characters.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, ioctlSetTermios, t)
}
