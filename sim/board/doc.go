// Package board is a virtual ESP32-family board: ROM serial loader, SPI
// flash, eFuse identity and strapping through the usual DTR/RTS auto-reset
// circuit, faithful at the serial-protocol level to a real chip in download
// mode.
package board
