//go:build windows

package serialport

import (
	"errors"
	"syscall"
)

// Windows error codes for I/O on a COM port whose device was removed.
const (
	errorInvalidHandle      = syscall.Errno(6)
	errorBadCommand         = syscall.Errno(22)
	errorGenFailure         = syscall.Errno(31)
	errorOperationAborted   = syscall.Errno(995)
	errorDeviceNotConnected = syscall.Errno(1167)
	errorSharingViolation   = syscall.Errno(32)
	errorNotSupported       = syscall.Errno(50)
)

func vanished(err error) bool {
	for _, e := range []syscall.Errno{errorInvalidHandle, errorBadCommand, errorGenFailure,
		errorOperationAborted, errorDeviceNotConnected} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func busy(err error) bool { return errors.Is(err, errorSharingViolation) }

func notTTY(err error) bool { return errors.Is(err, errorNotSupported) }

func interrupted(error) bool { return false }
