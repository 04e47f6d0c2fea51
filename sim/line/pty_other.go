//go:build !(linux || darwin)

package line

import (
	"context"
	"errors"
	"sync"

	"fleetline/sim/board"
)

func servePTY(context.Context, *board.Board, *sync.WaitGroup, func(error)) (string, func() error, error) {
	return "", nil, errors.New("pty mode needs Linux or macOS; use the RFC 2217 endpoints")
}
