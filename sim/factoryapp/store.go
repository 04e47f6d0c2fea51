package factoryapp

import (
	"errors"
	"fmt"

	"fleetline/firmware"
	"fleetline/firmware/nvs"
	"fleetline/sim/board"
)

// ErrNoFactoryData: the board's flash holds no factory partition or no SN
// in it; the batch did not personalize this board.
var ErrNoFactoryData = errors.New("no factory data")

// keyRootCA and keyMfgDate are optional factory keys this firmware reads
// beyond the nvs package's contract.
const (
	keyRootCA  = "root_ca"  // string: PEM trust anchor overriding the app's built-in one
	keyMfgDate = "mfg_date" // string: manufacturing date, 2006-01-02
)

// store is the factory NVS partition on the board's flash.
type store struct {
	dev  board.Device
	part firmware.Partition
	ns   string
}

// openStore finds the factory partition through the partition table at
// 0x8000, as the firmware's esp_partition_find does.
func openStore(dev board.Device, label, ns string) (*store, error) {
	buf := make([]byte, firmware.PartitionTableMaxData)
	if _, err := dev.Flash().ReadAt(buf, firmware.PartitionTableOffset); err != nil {
		return nil, fmt.Errorf("read partition table at 0x%x: %w", firmware.PartitionTableOffset, err)
	}
	table, err := firmware.ParsePartitionTable(buf)
	if err != nil {
		return nil, fmt.Errorf("partition table at 0x%x: %w", firmware.PartitionTableOffset, err)
	}
	part, ok := table.Find(label)
	if !ok {
		return nil, fmt.Errorf("%w: partition table has no %q partition", ErrNoFactoryData, label)
	}
	return &store{dev: dev, part: part, ns: ns}, nil
}

// load reads and parses the whole partition.
func (s *store) load() (*nvs.Partition, error) {
	buf := make([]byte, s.part.Size)
	if _, err := s.dev.Flash().ReadAt(buf, int64(s.part.Offset)); err != nil {
		return nil, fmt.Errorf("read %s at 0x%x: %w", s.part.Label, s.part.Offset, err)
	}
	p, err := nvs.Parse(buf)
	if err != nil {
		return nil, fmt.Errorf("NVS partition %s: %w", s.part.Label, err)
	}
	return p, nil
}

// state is what the factory partition says about the board.
type state struct {
	factory nvs.FactoryData
	device  nvs.DeviceCredentials
	hasDev  bool
	rootCA  []byte
	mfgDate string
}

func (s *store) read() (state, error) {
	p, err := s.load()
	if err != nil {
		return state{}, err
	}
	fd, err := nvs.ReadFactory(p, s.ns)
	if err != nil {
		return state{}, fmt.Errorf("%w: %v", ErrNoFactoryData, err)
	}
	st := state{factory: fd}
	if dc, err := nvs.ReadDevice(p, s.ns); err == nil {
		st.device, st.hasDev = dc, true
	}
	if ca, err := p.String(s.ns, keyRootCA); err == nil {
		st.rootCA = []byte(ca)
	}
	st.mfgDate, _ = p.String(s.ns, keyMfgDate)
	return st, nil
}

// update sets and erases keys in the factory namespace in place, with
// nvs_flash's NOR semantics: new entries are written before old ones are
// marked erased, so a reset in between leaves the old or the new value.
func (s *store) update(set []nvs.Entry, erase ...string) error {
	st, err := nvs.Open(s.dev.Flash(), s.part.Offset, s.part.Size)
	if err != nil {
		return fmt.Errorf("open NVS partition %s: %w", s.part.Label, err)
	}
	for _, e := range set {
		e.Namespace = s.ns
		if err := st.Set(e); err != nil {
			return fmt.Errorf("NVS partition %s: %w", s.part.Label, err)
		}
	}
	for _, k := range erase {
		if err := st.Erase(s.ns, k); err != nil && !errors.Is(err, nvs.ErrNotFound) {
			return fmt.Errorf("NVS partition %s: %w", s.part.Label, err)
		}
	}
	return nil
}

// saveDevice stores what provisioning returned.
func (s *store) saveDevice(certPEM, keyPEM []byte, thing string) error {
	return s.update([]nvs.Entry{
		nvs.BlobEntry(s.ns, nvs.KeyDeviceCert, certPEM),
		nvs.BlobEntry(s.ns, nvs.KeyDeviceKey, keyPEM),
		nvs.Str(s.ns, nvs.KeyThingName, thing),
	})
}

// eraseClaim removes the claim credentials once the device has its own.
func (s *store) eraseClaim() error {
	return s.update(nil, nvs.KeyClaimCert, nvs.KeyClaimKey)
}
