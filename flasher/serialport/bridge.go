package serialport

import (
	"strconv"
	"strings"
)

// Bridge families: what converts USB to the board's UART. The reset
// strategy depends on it (Espressif's USB-Serial/JTAG needs its own
// sequence) and the operator needs it to tell slots apart.
const (
	BridgeCP210x    = "CP210x"                    // Silicon Labs CP2102/N, CP2104, CP2105, CP2108
	BridgeCH34x     = "CH34x"                     // WCH CH340/CH341, CH342/3/4, CH9101-CH9104, CH9143
	BridgeFTDI      = "FTDI"                      // FT232R, FT2232, FT4232, FT232H, FT-X
	BridgeUSBJTAG   = "Espressif USB-Serial/JTAG" // the S3/C3/C6 on-chip USB-Serial/JTAG
	BridgeUSBOTG    = "Espressif USB-OTG CDC"     // the S2/S3 USB-OTG in ROM download mode
	BridgeEspressif = "Espressif USB"             // another Espressif VID device (an app's TinyUSB CDC)
)

// USB vendor ids.
const (
	vidSiliconLabs = 0x10C4
	vidWCH         = 0x1A86
	vidFTDI        = 0x0403
	vidEspressif   = 0x303A
)

// PIDUSBSerialJTAG is the product id of Espressif's on-chip USB-Serial/JTAG
// controller (esptool's USB_JTAG_SERIAL_PID), which selects the USB-JTAG
// reset sequence.
const PIDUSBSerialJTAG = 0x1001

// bridges maps VID:PID to a family. The ids come from the Linux cp210x,
// ch341, ftdi_sio drivers, WCH's ch343 driver and esptool.
var bridges = map[[2]uint16]string{
	{vidSiliconLabs, 0xEA60}: BridgeCP210x, // CP2102, CP2102N, CP2104 factory default
	{vidSiliconLabs, 0xEA61}: BridgeCP210x, // factory default (older parts)
	{vidSiliconLabs, 0xEA63}: BridgeCP210x, // CP2101-4/CP2102N, Windows Update id
	{vidSiliconLabs, 0xEA70}: BridgeCP210x, // CP2105 dual
	{vidSiliconLabs, 0xEA71}: BridgeCP210x, // CP2108 quad
	{vidSiliconLabs, 0xEA7A}: BridgeCP210x, // CP2105, Windows Update id
	{vidSiliconLabs, 0xEA7B}: BridgeCP210x, // CP2108, Windows Update id

	{vidWCH, 0x7523}: BridgeCH34x, // CH340
	{vidWCH, 0x7522}: BridgeCH34x, // CH340K
	{vidWCH, 0x5523}: BridgeCH34x, // CH341 in serial mode
	{vidWCH, 0x55D2}: BridgeCH34x, // CH342 dual
	{vidWCH, 0x55D3}: BridgeCH34x, // CH343
	{vidWCH, 0x55D4}: BridgeCH34x, // CH9102
	{vidWCH, 0x55D5}: BridgeCH34x, // CH344 quad
	{vidWCH, 0x55D6}: BridgeCH34x, // CH9143
	{vidWCH, 0x55D7}: BridgeCH34x, // CH9103
	{vidWCH, 0x55D8}: BridgeCH34x, // CH9101
	{vidWCH, 0x55DF}: BridgeCH34x, // CH9104

	{vidFTDI, 0x6001}: BridgeFTDI, // FT232R, FT232BM
	{vidFTDI, 0x6010}: BridgeFTDI, // FT2232 (ESP-Prog, WROVER-KIT)
	{vidFTDI, 0x6011}: BridgeFTDI, // FT4232
	{vidFTDI, 0x6014}: BridgeFTDI, // FT232H
	{vidFTDI, 0x6015}: BridgeFTDI, // FT-X (FT230X, FT231X)

	{vidEspressif, PIDUSBSerialJTAG}: BridgeUSBJTAG,
	{vidEspressif, 0x0002}:           BridgeUSBOTG, // ROM download mode over USB-OTG
}

// BridgeOf names the bridge family of a USB VID:PID, "" when unknown. Any
// other Espressif product id is reported as BridgeEspressif.
func BridgeOf(vid, pid uint16) string {
	if b, ok := bridges[[2]uint16{vid, pid}]; ok {
		return b
	}
	if vid == vidEspressif {
		return BridgeEspressif
	}
	return ""
}

// parseID parses a USB id as the enumerator gives it ("10C4", "ea60").
func parseID(s string) (uint16, bool) {
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x")
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 16, 16)
	return uint16(v), err == nil
}
