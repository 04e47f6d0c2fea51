package factoryapp

import (
	"errors"
	"fmt"

	"fleetline/firmware"
	"fleetline/firmware/nvs"
	"fleetline/firmware/spiffs"
	"fleetline/sim/board"
)

// ErrNoFactoryData: the board's flash holds neither an NVS factory
// partition with an SN nor the SPIFFS factory files; the batch did not
// personalize this board.
var ErrNoFactoryData = errors.New("no factory data")

// keyRootCA and keyMfgDate are optional factory keys this firmware reads
// beyond the nvs package's contract.
const (
	keyRootCA  = "root_ca"  // string: PEM trust anchor overriding the app's built-in one
	keyMfgDate = "mfg_date" // string: manufacturing date, 2006-01-02
)

// Factory data layouts.
const (
	layoutNVS    = "nvs"
	layoutSPIFFS = "spiffs"
)

// store is the board's factory data on its flash: an NVS partition, which
// also receives the device credentials, and optionally a SPIFFS partition
// holding the factory files instead.
type store struct {
	dev    board.Device
	nvs    firmware.Partition
	ns     string
	fs     *firmware.Partition
	fsCfg  spiffs.Config
	layout string // set by read
}

// openStore finds the partitions through the partition table at 0x8000, as
// the firmware's esp_partition_find does: the factory NVS partition by
// label (the app's "nvs" when there is none) and the first SPIFFS one.
func openStore(dev board.Device, label, ns string, fsCfg spiffs.Config) (*store, error) {
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
		if part, ok = table.Find(firmware.LabelNVS); !ok {
			return nil, fmt.Errorf("%w: partition table has neither %q nor %q", ErrNoFactoryData, label, firmware.LabelNVS)
		}
	}
	s := &store{dev: dev, nvs: part, ns: ns, fsCfg: fsCfg}
	if p, ok := table.FindType(firmware.TypeData, firmware.SubtypeSPIFFS); ok {
		s.fs = &p
	}
	return s, nil
}

func (s *store) readPart(p firmware.Partition) ([]byte, error) {
	buf := make([]byte, p.Size)
	if _, err := s.dev.Flash().ReadAt(buf, int64(p.Offset)); err != nil {
		return nil, fmt.Errorf("read %s at 0x%x: %w", p.Label, p.Offset, err)
	}
	return buf, nil
}

// load reads and parses the whole NVS partition.
func (s *store) load() (*nvs.Partition, error) {
	buf, err := s.readPart(s.nvs)
	if err != nil {
		return nil, err
	}
	p, err := nvs.Parse(buf)
	if err != nil {
		return nil, fmt.Errorf("NVS partition %s: %w", s.nvs.Label, err)
	}
	return p, nil
}

// state is what the flash says about the board.
type state struct {
	factory nvs.FactoryData
	device  nvs.DeviceCredentials
	hasDev  bool
	rootCA  []byte
	mfgDate string
}

// read takes the factory data from NVS when it holds an SN there, else
// from the SPIFFS factory files.
func (s *store) read() (state, error) {
	p, err := s.load()
	if err != nil {
		return state{}, err
	}
	var st state
	if dc, err := nvs.ReadDevice(p, s.ns); err == nil {
		st.device, st.hasDev = dc, true
	}
	if ca, err := p.String(s.ns, keyRootCA); err == nil {
		st.rootCA = []byte(ca)
	}
	st.mfgDate, _ = p.String(s.ns, keyMfgDate)
	fd, nvsErr := nvs.ReadFactory(p, s.ns)
	if nvsErr == nil {
		st.factory, s.layout = fd, layoutNVS
		return st, nil
	}
	if s.fs == nil {
		return st, fmt.Errorf("%w: %v", ErrNoFactoryData, nvsErr)
	}
	fd, err = s.readFiles()
	if err != nil {
		return st, fmt.Errorf("%w: NVS: %v; SPIFFS: %v", ErrNoFactoryData, nvsErr, err)
	}
	st.factory, s.layout = fd, layoutSPIFFS
	return st, nil
}

// loadFS reads and parses the whole SPIFFS partition.
func (s *store) loadFS() (*spiffs.FS, error) {
	img, err := s.readPart(*s.fs)
	if err != nil {
		return nil, err
	}
	fs, err := spiffs.Parse(img, s.fsCfg)
	if err != nil {
		return nil, fmt.Errorf("SPIFFS partition %s: %w", s.fs.Label, err)
	}
	return fs, nil
}

// readFiles reads the factory files spiffs.FactoryFiles lays out.
func (s *store) readFiles() (nvs.FactoryData, error) {
	fs, err := s.loadFS()
	if err != nil {
		return nvs.FactoryData{}, err
	}
	sn, err := fs.Open(spiffs.SerialNumberFile)
	if err != nil {
		return nvs.FactoryData{}, fmt.Errorf("partition %s: %w", s.fs.Label, err)
	}
	fd := nvs.FactoryData{Namespace: s.ns, SN: string(sn)}
	fd.ClaimCertPEM, _ = fs.Open(spiffs.ClaimCertFile)
	fd.ClaimKeyPEM, _ = fs.Open(spiffs.ClaimKeyFile)
	tmpl, _ := fs.Open(spiffs.TemplateFile)
	ep, _ := fs.Open(spiffs.EndpointFile)
	fd.Template, fd.Endpoint = string(tmpl), string(ep)
	return fd, nil
}

// update sets and erases keys in the factory namespace in place, with
// nvs_flash's NOR semantics: new entries are written before old ones are
// marked erased, so a reset in between leaves the old or the new value.
func (s *store) update(set []nvs.Entry, erase ...string) error {
	st, err := nvs.Open(s.dev.Flash(), s.nvs.Offset, s.nvs.Size)
	if err != nil {
		return fmt.Errorf("open NVS partition %s: %w", s.nvs.Label, err)
	}
	for _, e := range set {
		e.Namespace = s.ns
		if err := st.Set(e); err != nil {
			return fmt.Errorf("NVS partition %s: %w", s.nvs.Label, err)
		}
	}
	for _, k := range erase {
		if err := st.Erase(s.ns, k); err != nil && !errors.Is(err, nvs.ErrNotFound) {
			return fmt.Errorf("NVS partition %s: %w", s.nvs.Label, err)
		}
	}
	return nil
}

// saveDevice stores what provisioning returned, in NVS whatever the layout.
func (s *store) saveDevice(certPEM, keyPEM []byte, thing string) error {
	return s.update([]nvs.Entry{
		nvs.BlobEntry(s.ns, nvs.KeyDeviceCert, certPEM),
		nvs.BlobEntry(s.ns, nvs.KeyDeviceKey, keyPEM),
		nvs.Str(s.ns, nvs.KeyThingName, thing),
	})
}

// eraseClaim removes the claim credentials once the device has its own.
func (s *store) eraseClaim() error {
	if s.layout == layoutSPIFFS {
		return s.eraseClaimFiles()
	}
	return s.update(nil, nvs.KeyClaimCert, nvs.KeyClaimKey)
}

// eraseClaimFiles deletes the claim files from SPIFFS. The spiffs package
// has no in-place writer, so the image is rebuilt without them and written
// back whole; firmware deleting with spiffs_remove marks pages deleted in
// place instead, which leaves different bytes but the same files.
func (s *store) eraseClaimFiles() error {
	fs, err := s.loadFS()
	if err != nil {
		return err
	}
	var keep []spiffs.File
	for _, f := range fs.Files {
		if f.Name != spiffs.ClaimCertFile && f.Name != spiffs.ClaimKeyFile && f.Data != nil {
			keep = append(keep, spiffs.File{Name: f.Name, Data: f.Data})
		}
	}
	out, err := spiffs.Build(keep, int(s.fs.Size), s.fsCfg)
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", s.fs.Label, err)
	}
	if err := s.dev.Flash().Erase(s.fs.Offset, s.fs.Size); err != nil {
		return fmt.Errorf("erase %s: %w", s.fs.Label, err)
	}
	if err := s.dev.Flash().Program(s.fs.Offset, out); err != nil {
		return fmt.Errorf("program %s: %w", s.fs.Label, err)
	}
	return nil
}
