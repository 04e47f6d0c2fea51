// Package board is a virtual ESP32-family board (ESP32, ESP32-S3,
// ESP32-C3): ROM serial loader, SPI NOR flash, eFuse identity and strapping
// through the usual DTR/RTS auto-reset circuit, faithful at the
// serial-protocol level to a real chip in download mode. It is written from
// Espressif's documentation and from observations of the real mask ROM, not
// from the fleetline flasher, so that the two cannot share a mistake.
//
// # The host side
//
// Open returns a Port (a portio.Port): writes go to the chip's UART RX,
// the chip's TX comes out of Read. DTR and RTS drive EN and GPIO0 through
// two cross-wired transistors: EN is low only while RTS is asserted and DTR
// is not, GPIO0 only while DTR is asserted and RTS is not. When EN is
// released it rises through an RC network (Config.ENDelay, 10 ms) and GPIO0
// is latched at the end of that delay, or at the host's next write if that
// comes first. So esptool's classic sequence, which passes through "both
// asserted" for an instant, still lands in download mode, and one whose
// steps are too far apart boots from flash, as on a real board. SetBaud
// sets the bridge's rate; a bridge asked for more than it can do stays at
// its maximum (CP2102 921600, CP2102N 3M, CH340 2M, FTDI 3M). Bytes sent at
// one rate and received at another arrive as garbage drawn from the board's
// seeded noise stream.
//
// # The ROM loader
//
// After a download-mode reset the ROM prints its banner at 115200 and then
// stays silent between frames. Its autobaud follows the host's rate on the
// first SYNC's 0x55 run. Every command esptool uses without its stub is
// there, with the real status trailers and the quirks a client can notice:
//
//   - SYNC gets eight identical replies with value 0x20120707; its payload
//     is not checked.
//   - The reply header's value is only set by SYNC and READ_REG; other
//     replies carry the stale one. The status trailer's two reserved bytes
//     come from a reply buffer shared by all commands, and the error byte of
//     a failure is left over on later successes (SYNC, READ_REG, WRITE_REG,
//     SPI_ATTACH, SPI_FLASH_MD5 and READ_FLASH_SLOW clear it).
//   - An unknown opcode (on the ESP32 also GET_SECURITY_INFO) fails with
//     01 05 in a reply whose op is the last command actually handled, sent
//     eight times when that was a SYNC.
//   - Requests are copied into a persistent buffer: a short frame's missing
//     fields are what the previous request left there; the header's length
//     field is not checked; an invalid escape DB xx decodes as xx.
//   - FLASH_BEGIN takes 4 words on the ESP32 and 5 on the S3/C3 (anything
//     else: 01 05), refuses blocks over 0x1000 (01 05) and offsets not on a
//     sector (01 06), and erases the rounded range before replying.
//   - A data block with a bad checksum fails with 01 07 but uses up its
//     sequence number; accepted blocks are written back to back from the
//     offset (after a short block the next one follows its last byte); a
//     length field that disagrees with the data fails 01 05. MEM_DATA
//     lands in RAM, where READ_REG reads it back.
//   - FLASH_DEFL_DATA inflates the zlib stream across blocks (01 0B when
//     corrupt); inflated bytes reach the flash per 32 KiB window and after
//     the last announced block, so a stream that ends early stays unwritten,
//     and a block after the stream's end is never answered (the loader
//     hangs until reset). MEM_END(1) leaves the MEM session open.
//   - Range checks use the size SPI_SET_PARAMS declared; before it the
//     real ROMs assume 2 MiB, as the board does unless Config.LenientFlashSize
//     is set). SPI_FLASH_MD5 answers 32 lower-case hex characters (01 09
//     past the end). READ_FLASH_SLOW always returns 64 bytes (01 0A over 64).
//   - MEM_END with an entry point jumps away: the board falls silent (no
//     stub is modelled). FLASH_END 0 reboots (reply, c0 c0, banner with
//     SW_RESET), 1 runs the user code from flash.
//   - CHANGE_BAUDRATE replies, switches and sends c0 c0 at the new rate. The
//     ESP32 ROM divides its crystal estimate (RTC calibration × the CK8M
//     eFuse, which varies by ±2.5 % per chip) by the requested rate, which is
//     why esptool pre-scales the value it sends; the board applies the same
//     arithmetic, so the pre-scaled value gives the intended rate.
//
// READ_REG and WRITE_REG reach a register model: the eFuse words (MAC with
// the ESP32's CRC-8, revision, CK8M), the chip-detect magic at 0x40001000,
// UART_CLKDIV, the RTC calibration, APB_CTRL_DATE, GPIO_STRAP, the UART-or-
// USB variable of the C3/S3 ROMs, and SPI1's user-command registers: setting
// CMD bit 18 runs the command (RDID, RDSFDP, status reads; resets and other
// commands are accepted) and clears the bit. Other addresses behave as RAM.
//
// qemu_diff_test.go checks all of this against the real ESP32 and ESP32-C3
// mask ROMs running under Espressif's QEMU fork, byte for byte, when
// FLEETLINE_QEMU_DIR names a QEMU build; it lists the few differences that
// come from QEMU's peripheral models rather than the ROM.
//
// # Flash boot
//
// With GPIO0 high the ROM loads the second-stage bootloader (0x1000 on the
// ESP32, 0 on the S3/C3), which checks the partition table at 0x8000 and the
// first app partition; the boot log says what it found, using package
// firmware's image and partition-table parsers. An invalid image prints the
// ROM's "invalid header" line a few times (the real ROM repeats it until its
// watchdog fires) and the board halts. A valid one runs Config.App with a
// Device whose console is UART0 at 115200; any reset cancels its context.
//
// # Swapping boards in a fixture
//
// Swap models a pogo-pin test fixture whose USB-UART bridge stays in place
// while the operator replaces the board: the port (and a host holding it
// open) stays, the next board gets a fresh identity from (seed, index,
// swaps), erased flash and no faults, and powers on with the host's lines as
// they are. A host that opened the port passively (lines released, 115200)
// sees the new board's ROM power-on banner, which is how a station waiting
// for the finished board to leave notices the next one. Resets counts the
// resets of the current board, so a test can check that nothing touched a
// finished board.
//
// # Timing and faults
//
// Instant timing makes everything take no time and nothing sleeps: a reply
// is in the read buffer when the request's Write returns. Realistic timing
// charges 10 bit times per byte at the current rate each way, the bridge's
// turnaround (FTDI holds short packets for its 16 ms latency timer), NOR
// erase (45 ms a sector, 150 ms a 64 KiB block) and page-program times, and
// the ROM's inflate and MD5 rates. It is built on timers, not polling: an
// idle board costs nothing. Faults (see Faults and ParseFault) are per board
// and reproducible from the seed.
package board
