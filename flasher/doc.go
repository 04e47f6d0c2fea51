// Package flasher is the station's client of the ESP serial ROM loader (and
// of a flasher stub already running on the chip), over any portio.Port.
//
// A session follows esptool's order:
//
//	c := flasher.New(port, flasher.Options{Progress: ..., Logf: ...})
//	c.Connect(ctx)        // reset into download mode (reset.go), SYNC
//	c.Identify(ctx)       // chip, revision, crystal, MAC, flash id/size, security
//	c.ChangeBaud(ctx, 921600)
//	c.WriteRegions(ctx, regions, flasher.WriteOptions{Compress: true, Verify: true, SkipUnchanged: true})
//	c.HardReset(ctx)      // boot the app
//
// Connect cycles reset strategies (values of type Reset: classic,
// unix-tight, USB-JTAG, none, or an esptool custom sequence string) over its
// attempts, keeps the text the ROM prints after reset and, when SYNC fails,
// tells a board that booted from flash (boot:0x13, a *WrongBootModeError
// naming what to check) from one whose RX line is dead (ErrTXPathDown).
//
// Every command goes through one engine (client.go): one request, then
// frames read until the reply with the same opcode arrives (at most 100,
// within the command's timeout). The ROM's quirks are expected: replies
// carry stale values and stale error bytes on success, and an unsupported
// command is answered with the op of the last command the ROM handled and
// status 01 05. Replies end in a 4-byte status from the ROM, 2 from a stub.
//
// Writes (plan.go, write.go) go in 1 KiB blocks, zlib level 9 compressed
// (FLASH_DEFL_*) or plain (FLASH_*), without the END command the ROM would
// leave the loader on. Regions are split into segments of their own BEGIN,
// so a lost block costs one segment; see WritePlan for the recovery rules.
// A WritePlan is immutable and can be shared by many clients flashing the
// same firmware.
//
// Errors are typed: ErrTimeout and ErrClosed (a vanished port is never a
// timeout), ErrNoSync, *WrongBootModeError, *ProtocolError, *BlockError,
// *VerifyError and the chip's own *rom.StatusError, each wrapped with the
// step that failed.
package flasher
