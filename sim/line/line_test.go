package line

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/rfc2217"
	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

func TestLineServesBoardsOverRFC2217(t *testing.T) {
	ctx := context.Background()
	l, err := Start(ctx, Config{Boards: 2, Chip: "esp32c3", Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	eps := l.Endpoints()
	if len(eps) != 2 || eps[0].MAC == eps[1].MAC || !strings.HasPrefix(eps[0].URL, "rfc2217://127.0.0.1:") {
		t.Fatalf("endpoints %+v", eps)
	}
	for _, ep := range eps {
		addr, d, err := rfc2217.ParseURL(ep.URL)
		if err != nil {
			t.Fatal(err)
		}
		c, err := d.Dial(ctx, addr, 115200)
		if err != nil {
			t.Fatal(err)
		}
		// DTR asserted starts the assisted download-mode reset.
		if err := c.SetDTR(true); err != nil {
			t.Fatal(err)
		}
		c.SetReadTimeout(3 * time.Second)
		var got []byte
		buf := make([]byte, 512)
		for !bytes.Contains(got, []byte("waiting for download")) {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("slot %d: banner: %v (got %q)", ep.Slot, err, got)
			}
			got = append(got, buf[:n]...)
		}
		pkt, _ := rom.NewRequest(rom.OpSync, rom.SyncData).MarshalBinary()
		if _, err := c.Write(slip.Encode(pkt)); err != nil {
			t.Fatal(err)
		}
		r := slip.NewReader(c)
		f, err := r.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		resp, err := rom.ParseResponse(f)
		if err != nil || resp.Op != rom.OpSync || resp.Value != rom.SyncValue {
			t.Fatalf("sync reply %+v %v", resp, err)
		}
		c.Close()
	}
}

func TestWriteEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eps.json")
	eps := []Endpoint{{Slot: 0, URL: "rfc2217://127.0.0.1:1", MAC: "24:0a:c4:00:00:01", Chip: "esp32"}}
	if err := WriteEndpoints(path, eps); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var back []map[string]any
	if err := json.Unmarshal(b, &back); err != nil || back[0]["slot"] != 0.0 || back[0]["url"] != eps[0].URL {
		t.Fatalf("%s %v", b, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp")); len(left) != 0 {
		t.Fatalf("left behind %v", left)
	}
	// Into a directory that does not exist: the error names the path.
	bad := filepath.Join(t.TempDir(), "missing", "eps.json")
	if err := WriteEndpoints(bad, eps); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("write into a missing directory: %v", err)
	}
}
