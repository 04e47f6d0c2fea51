package board

import (
	"bytes"
	"os"
	"testing"
)

func TestIdentitiesUniqueAndStable(t *testing.T) {
	seen := map[[6]byte]int{}
	for i := 0; i < 256; i++ {
		id, _ := deriveIdentity(chipProfiles["esp32"], 99, i, 0, 4<<20)
		if j, dup := seen[id.MAC]; dup {
			t.Fatalf("boards %d and %d share MAC %s", j, i, id.MACString())
		}
		seen[id.MAC] = i
		if id.MAC[0] != 0x24 || id.MAC[1] != 0x0A || id.MAC[2] != 0xC4 {
			t.Fatalf("OUI of %s", id.MACString())
		}
		again, _ := deriveIdentity(chipProfiles["esp32"], 99, i, 0, 4<<20)
		if again != id {
			t.Fatal("identity not a function of seed and index")
		}
		if flashSizeFromID(id.FlashID) != 4<<20 {
			t.Fatalf("flash id %#x", id.FlashID)
		}
	}
}

func TestStateDirKeepsFlashAndIdentity(t *testing.T) {
	dir := t.TempDir()
	b1, err := New(Config{StateDir: dir, Index: 3, Seed: 1})
	must(t, err)
	must(t, b1.flash.erase(0x10000, SectorSize))
	must(t, b1.flash.program(0x10000, []byte("kept across restarts")))
	id := b1.Identity()
	must(t, b1.Close())

	// Another seed: the stored identity wins, so a board keeps its MAC.
	b2, err := New(Config{StateDir: dir, Index: 3, Seed: 2})
	must(t, err)
	defer b2.Close()
	if b2.Identity() != id {
		t.Fatalf("identity %+v, want %+v", b2.Identity(), id)
	}
	got := make([]byte, 20)
	b2.flash.readAt(got, 0x10000)
	if !bytes.Equal(got, []byte("kept across restarts")) {
		t.Fatalf("flash %q", got)
	}
	if _, err := New(Config{StateDir: dir, Index: 3, Chip: "esp32c3"}); err == nil {
		t.Fatal("an esp32 state opened as a C3")
	}
	_, flashPath := statePaths(dir, 3)
	if st, err := os.Stat(flashPath); err != nil || st.Size() != 4<<20 {
		t.Fatalf("state file %v %v", st, err)
	}
}
