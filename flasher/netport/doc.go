// Package netport is a portio.Port over a raw TCP socket, the port esptool
// and pyserial call socket://host:port. Espressif's QEMU exposes a virtual
// chip's UART this way, which lets the flasher talk to the real ROM code
// under emulation.
//
// A socket carries bytes only: there are no DTR/RTS lines and no baud
// rate. SetDTR, SetRTS and SetBaud succeed without effect, and
// ControlLines reports false so that the flasher knows a reset is
// impossible and connects without one (esptool forces --before no_reset on
// such ports for the same reason). Read timeouts come out as
// portio.ErrTimeout and a connection that ends as portio.ErrClosed.
package netport
