package factoryapp

import (
	"fmt"
	"testing"

	"fleetline/firmware/selftest"
)

// BenchmarkFirstBoot measures one whole first boot of a virtual board on
// loopback: boot log, factory NVS read, self tests, key and CSR, mutual TLS,
// both provisioning operations, the NVS writes and the verdict.
func BenchmarkFirstBoot(b *testing.B) {
	l := newLine(b)
	i := 0
	for b.Loop() {
		i++
		brd := newFakeBoard(b, byte(i), l.factory(fmt.Sprintf("FL-B%05d", i)))
		tr := brd.boot(l.app(Faults{})).run(l.now(), selftest.Start{})
		if tr.result == nil || !tr.result.OK {
			b.Fatalf("boot %d: %+v", i, tr.result)
		}
		brd.stop()
	}
}
