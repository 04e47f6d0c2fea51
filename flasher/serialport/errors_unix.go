//go:build !windows

package serialport

import (
	"errors"
	"syscall"
)

// vanished reports errors a tty gives once its device is gone: EIO after a
// USB unplug or pty hangup, ENXIO/ENODEV on a removed device, EBADF on a
// descriptor closed under us.
func vanished(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENXIO) ||
		errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.EBADF)
}

func busy(err error) bool { return errors.Is(err, syscall.EBUSY) }

func notTTY(err error) bool { return errors.Is(err, syscall.ENOTTY) }

func interrupted(err error) bool {
	return errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN)
}
