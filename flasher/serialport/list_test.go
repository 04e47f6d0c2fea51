package serialport

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInfosAndMatch(t *testing.T) {
	// A fake /dev with udev's by-path and by-id links.
	dev := t.TempDir()
	for _, n := range []string{"ttyUSB0", "ttyUSB1", "ttyACM0", "ttyS0"} {
		os.WriteFile(filepath.Join(dev, n), nil, 0o644)
	}
	byPath := filepath.Join(dev, "by-path")
	byID := filepath.Join(dev, "by-id")
	os.Mkdir(byPath, 0o755)
	os.Mkdir(byID, 0o755)
	link := func(dir, name, target string) {
		if err := os.Symlink(filepath.Join("..", target), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(byPath, "pci-0000:00:14.0-usb-0:1.1:1.0-port0", "ttyUSB0")
	link(byPath, "pci-0000:00:14.0-usb-0:1.2:1.0-port0", "ttyUSB1")
	link(byPath, "pci-0000:00:14.0-usb-0:2:1.0", "ttyACM0")
	link(byID, "usb-Silicon_Labs_CP2102N_0001-if00-port0", "ttyUSB0")
	link(byPath, "dangling", "ttyUSB7")

	raw := []rawPort{
		{Name: filepath.Join(dev, "ttyUSB1"), IsUSB: true, VID: "1A86", PID: "7523"},
		{Name: filepath.Join(dev, "ttyUSB0"), IsUSB: true, VID: "10C4", PID: "EA60", SerialNumber: "0001", Product: "CP2102N USB to UART Bridge Controller"},
		{Name: filepath.Join(dev, "ttyACM0"), IsUSB: true, VID: "303a", PID: "1001", SerialNumber: "F4:12:FA:00:11:22"},
		{Name: filepath.Join(dev, "ttyS0")},
		{},
	}
	got := infos(raw, links(byPath), links(byID))
	if len(got) != 4 {
		t.Fatalf("got %d ports: %+v", len(got), got)
	}
	acm, s0, usb0, usb1 := got[0], got[1], got[2], got[3]
	if usb0.Bridge != BridgeCP210x || usb0.VIDPID() != "10C4:EA60" || usb0.SerialNumber != "0001" ||
		filepath.Base(usb0.ByPath) != "pci-0000:00:14.0-usb-0:1.1:1.0-port0" ||
		filepath.Base(usb0.ByID) != "usb-Silicon_Labs_CP2102N_0001-if00-port0" {
		t.Errorf("ttyUSB0 = %+v", usb0)
	}
	if usb1.Bridge != BridgeCH34x || usb1.ByID != "" {
		t.Errorf("ttyUSB1 = %+v", usb1)
	}
	if acm.Bridge != BridgeUSBJTAG || acm.PID != PIDUSBSerialJTAG {
		t.Errorf("ttyACM0 = %+v", acm)
	}
	if s0.USB || s0.VIDPID() != "" || s0.Bridge != "" || s0.ByPath != "" {
		t.Errorf("ttyS0 = %+v", s0)
	}

	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"ttyACM0", "ttyS0", "ttyUSB0", "ttyUSB1"}},
		{"vid", Filter{VID: 0x10C4}, []string{"ttyUSB0"}},
		{"vid+pid", Filter{VID: 0x303A, PID: 0x1001}, []string{"ttyACM0"}},
		{"serial", Filter{SerialNumber: "F4:12:FA:00:11:22"}, []string{"ttyACM0"}},
		{"hub glob", Filter{ByPath: filepath.Join(byPath, "pci-0000:00:14.0-usb-0:1.*:1.0-port0")}, []string{"ttyUSB0", "ttyUSB1"}},
		{"path glob", Filter{Path: filepath.Join(dev, "ttyUSB*")}, []string{"ttyUSB0", "ttyUSB1"}},
		{"bridge", Filter{Bridge: BridgeCH34x}, []string{"ttyUSB1"}},
		{"nothing", Filter{VID: 0x0403}, nil},
	} {
		m, err := Match(got, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, in := range m {
			names = append(names, filepath.Base(in.Path))
		}
		if len(names) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, names, tc.want)
			continue
		}
		for i := range names {
			if names[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.name, names, tc.want)
			}
		}
	}
	if in, ok := find(got, filepath.Join(byPath, "pci-0000:00:14.0-usb-0:2:1.0")); !ok || in.Bridge != BridgeUSBJTAG {
		t.Errorf("find by by-path link = %+v, %v", in, ok)
	}
	if _, ok := find(got, filepath.Join(dev, "ttyUSB7")); ok {
		t.Error("found a port that is not listed")
	}
	if _, err := Match(got, Filter{ByPath: "[bad"}); err == nil {
		t.Error("bad glob accepted")
	}
}

func TestLinksMissingDir(t *testing.T) {
	if m := links(filepath.Join(t.TempDir(), "nope")); len(m) != 0 {
		t.Errorf("links of a missing dir = %v", m)
	}
}

func TestListRuns(t *testing.T) {
	// No serial hardware here: List must still work and return a list.
	ports, err := List()
	if err != nil {
		t.Skipf("enumeration not possible here: %v", err)
	}
	t.Logf("%d ports", len(ports))
}
