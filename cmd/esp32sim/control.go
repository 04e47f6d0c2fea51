package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"fleetline/sim/board"
	"fleetline/sim/line"
)

// controlHelp lists the commands --control-stdin reads, one per line.
const controlHelp = `commands:
  swap N     take the board out of slot N and put the next one in (new MAC, erased flash)
  status [N] slot, MAC, swaps, resets since power-on and mode of slot N (or every slot)
  help       this list`

// controller runs the stdin commands against a running line. Output goes
// through it so that nothing is written once the line has stopped.
type controller struct {
	boards    []*board.Board
	eps       []line.Endpoint
	endpoints string // the --endpoints file to keep up to date, if any

	mu      sync.Mutex
	stdout  io.Writer
	stderr  io.Writer
	stopped bool
}

// stop silences the controller: the line is closing.
func (c *controller) stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}

func (c *controller) printf(w io.Writer, format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		fmt.Fprintf(w, format, a...)
	}
}

func (c *controller) out(format string, a ...any) { c.printf(c.stdout, format, a...) }

func (c *controller) errf(format string, a ...any) {
	c.printf(c.stderr, "esp32sim: "+format+"\n", a...)
}

// run reads commands until r ends; the line keeps running after that.
func (c *controller) run(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		c.command(strings.Fields(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		c.errf("control: read stdin: %v (commands are no longer read)", err)
	}
}

func (c *controller) command(f []string) {
	if len(f) == 0 {
		return
	}
	switch {
	case f[0] == "swap" && len(f) == 2:
		n, ok := c.slot(f[1])
		if !ok {
			return
		}
		if err := c.boards[n].Swap(); err != nil {
			c.errf("swap %d: %v", n, err)
			return
		}
		mac := c.boards[n].MAC()
		c.out("slot %d\tswapped\t%s\n", n, mac)
		c.updateEndpoints(n, mac)
	case f[0] == "status" && len(f) <= 2:
		slots := make([]int, 0, len(c.boards))
		if len(f) == 2 {
			n, ok := c.slot(f[1])
			if !ok {
				return
			}
			slots = append(slots, n)
		} else {
			for i := range c.boards {
				slots = append(slots, i)
			}
		}
		for _, n := range slots {
			b := c.boards[n]
			c.out("slot %d\t%s\tswaps %d\tresets %d\t%s\n", n, b.MAC(), b.Swaps(), b.Resets(), b.Mode())
		}
	case f[0] == "help":
		c.out("%s\n", controlHelp)
	default:
		c.errf("control: unknown command %q (try help)", strings.Join(f, " "))
	}
}

func (c *controller) slot(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n >= len(c.boards) {
		c.errf("control: slot %q: want 0..%d", s, len(c.boards)-1)
		return 0, false
	}
	return n, true
}

// updateEndpoints rewrites the --endpoints file with slot n's new MAC, so a
// tool reading it matches the board now in the slot.
func (c *controller) updateEndpoints(n int, mac string) {
	c.mu.Lock()
	c.eps[n].MAC = mac
	eps := append([]line.Endpoint(nil), c.eps...)
	c.mu.Unlock()
	if c.endpoints == "" {
		return
	}
	if err := line.WriteEndpoints(c.endpoints, eps); err != nil {
		c.errf("control: %v", err)
	}
}
