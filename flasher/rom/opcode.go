package rom

import "fmt"

// Op is a loader command opcode.
type Op byte

// Opcodes of the ROM loader and of the flasher stub.
const (
	OpFlashBegin      Op = 0x02
	OpFlashData       Op = 0x03
	OpFlashEnd        Op = 0x04
	OpMemBegin        Op = 0x05
	OpMemEnd          Op = 0x06
	OpMemData         Op = 0x07
	OpSync            Op = 0x08
	OpWriteReg        Op = 0x09
	OpReadReg         Op = 0x0A
	OpSPISetParams    Op = 0x0B
	OpSPIAttach       Op = 0x0D
	OpReadFlashSlow   Op = 0x0E
	OpChangeBaudrate  Op = 0x0F
	OpFlashDeflBegin  Op = 0x10
	OpFlashDeflData   Op = 0x11
	OpFlashDeflEnd    Op = 0x12
	OpSPIFlashMD5     Op = 0x13
	OpGetSecurityInfo Op = 0x14

	// Stub-only commands.
	OpEraseFlash  Op = 0xD0
	OpEraseRegion Op = 0xD1
	OpReadFlash   Op = 0xD2
	OpRunUserCode Op = 0xD3
)

var opNames = map[Op]string{
	OpFlashBegin:      "FLASH_BEGIN",
	OpFlashData:       "FLASH_DATA",
	OpFlashEnd:        "FLASH_END",
	OpMemBegin:        "MEM_BEGIN",
	OpMemEnd:          "MEM_END",
	OpMemData:         "MEM_DATA",
	OpSync:            "SYNC",
	OpWriteReg:        "WRITE_REG",
	OpReadReg:         "READ_REG",
	OpSPISetParams:    "SPI_SET_PARAMS",
	OpSPIAttach:       "SPI_ATTACH",
	OpReadFlashSlow:   "READ_FLASH_SLOW",
	OpChangeBaudrate:  "CHANGE_BAUDRATE",
	OpFlashDeflBegin:  "FLASH_DEFL_BEGIN",
	OpFlashDeflData:   "FLASH_DEFL_DATA",
	OpFlashDeflEnd:    "FLASH_DEFL_END",
	OpSPIFlashMD5:     "SPI_FLASH_MD5",
	OpGetSecurityInfo: "GET_SECURITY_INFO",
	OpEraseFlash:      "ERASE_FLASH",
	OpEraseRegion:     "ERASE_REGION",
	OpReadFlash:       "READ_FLASH",
	OpRunUserCode:     "RUN_USER_CODE",
}

// String returns the opcode's name as Espressif's documentation spells it.
func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("OP_0x%02X", byte(o))
}

// Checksummed reports whether the opcode's checksum field is meaningful.
func (o Op) Checksummed() bool {
	return o == OpMemData || o == OpFlashData || o == OpFlashDeflData
}
