package factoryapp

import (
	"fmt"
	"io"
	"sync"
	"time"

	"fleetline/firmware/selftest"
)

// bootloaderMillis is roughly where the app's log timestamps start: the ROM
// and the second-stage bootloader took that long.
const bootloaderMillis = 280

// console writes ESP-IDF log lines and protocol lines to UART0.
type console struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	err   error // first write error: the board went away
}

func newConsole(w io.Writer, now func() time.Time) *console {
	return &console{w: w, now: now, start: now()}
}

// millis is esp_log_timestamp(): milliseconds since boot.
func (c *console) millis() int64 {
	return bootloaderMillis + c.now().Sub(c.start).Milliseconds()
}

// log prints one ESP_LOGx line: "I (312) tag: message".
func (c *console) log(level byte, tag, format string, args ...any) {
	c.write(fmt.Appendf(nil, "%c (%d) %s: %s\r\n", level, c.millis(), tag, fmt.Sprintf(format, args...)))
}

// raw prints text as printf would, for multi-line dumps.
func (c *console) raw(s string) { c.write([]byte(s)) }

// send prints one protocol line.
func (c *console) send(m selftest.Message) {
	line, err := selftest.Encode(m)
	if err != nil {
		c.log('E', "fct", "cannot encode %s: %v", m.Type(), err)
		return
	}
	c.write(line)
}

func (c *console) write(b []byte) {
	if c.err != nil {
		return
	}
	_, c.err = c.w.Write(b)
}

// boardClock is the board's time of day: the unsynced boot value until the
// station's time is applied, advancing with the host clock.
type boardClock struct {
	mu   sync.Mutex
	host func() time.Time
	base time.Time // board time at hostAt
	at   time.Time
}

func newBoardClock(host func() time.Time, boot time.Time) *boardClock {
	return &boardClock{host: host, base: boot, at: host()}
}

// Now is the board's current time.
func (c *boardClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(c.host().Sub(c.at))
}

// Set applies settimeofday.
func (c *boardClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.at = t, c.host()
}
