package flasher

import (
	"bytes"
	"context"
	"crypto/md5"
	"testing"

	"fleetline/flasher/rom"
)

// A flasher stub left running by an earlier session (esptool --after
// no_reset_stub) answers SYNC with value 0 and 2-byte status trailers; the
// client must notice and speak its variant.
func TestStubAlreadyRunning(t *testing.T) {
	c, f := newTestClient(t, "esp32c3")
	f.stub = true
	info := connectIdentify(t, c)
	if !c.Stub() || !info.Stub || info.Name != "ESP32-C3" {
		t.Fatalf("stub %v info %+v", c.Stub(), info)
	}
	ctx := context.Background()
	app := firmware(50_000, 31)
	reps, err := c.WriteRegions(ctx, []Region{{"app", 0x10000, app}}, WriteOptions{Compress: true, Verify: true})
	if err != nil || !reps[0].Verified {
		t.Fatalf("%+v %v", reps, err)
	}
	if !bytes.Equal(f.flash[0x10000:0x10000+len(app)], app) {
		t.Fatal("flash differs")
	}
	sum, err := c.MD5(ctx, 0x10000, uint32(len(app)))
	if err != nil || sum != md5.Sum(app) {
		t.Fatalf("raw MD5 %x %v", sum, err)
	}
	if err := c.EraseRegion(ctx, 0x10000, 0x1000); err != nil || f.flash[0x10000] != 0xFF {
		t.Fatalf("erase: %v", err)
	}
	if f.count[rom.OpEraseRegion] != 1 {
		t.Fatal("stub erase did not use ERASE_REGION")
	}
}
