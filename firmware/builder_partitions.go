package firmware

// Labels of the partitions fleetline's default table gives special roles.
const (
	// LabelNVS is the app's own NVS: a user's factory reset may erase it.
	LabelNVS = "nvs"
	// LabelFactoryData is the NVS partition the station writes per device
	// (serial number, claim certificate and key, endpoint). It is separate
	// from "nvs" so that erasing the user's settings cannot wipe the
	// credentials the board needs to provision itself.
	LabelFactoryData = "fctry"
	// LabelFactoryApp is the app partition the station flashes.
	LabelFactoryApp = "factory"
	// LabelStorage is a SPIFFS partition for app files.
	LabelStorage = "storage"
)

// DefaultPartitionTable is fleetline's layout for a 4 MB board, the one the
// builder, the virtual board and the demo use:
//
//	# Name,   Type, SubType, Offset,   Size
//	nvs,      data, nvs,     0x9000,   24K
//	phy_init, data, phy,     0xf000,   4K
//	fctry,    data, nvs,     0x10000,  24K
//	factory,  app,  factory, 0x20000,  1920K
//	storage,  data, spiffs,  0x200000, 1M
//
// It ends at 3 MB, so it also fits a board whose last megabyte is kept free.
func DefaultPartitionTable() PartitionTable {
	return PartitionTable{Partitions: []Partition{
		{Label: LabelNVS, Type: TypeData, SubType: SubtypeNVS, Offset: 0x9000, Size: 0x6000},
		{Label: "phy_init", Type: TypeData, SubType: SubtypePHY, Offset: 0xF000, Size: 0x1000},
		{Label: LabelFactoryData, Type: TypeData, SubType: SubtypeNVS, Offset: 0x10000, Size: 0x6000},
		{Label: LabelFactoryApp, Type: TypeApp, SubType: SubtypeFactory, Offset: 0x20000, Size: 0x1E0000},
		{Label: LabelStorage, Type: TypeData, SubType: SubtypeSPIFFS, Offset: 0x200000, Size: 0x100000},
	}}
}

// BuildPartitionTable checks the layout of the entries and encodes them as
// a binary table with its MD5 row, ready to write at 0x8000.
func BuildPartitionTable(parts ...Partition) ([]byte, error) {
	t := PartitionTable{Partitions: parts}
	if err := t.Verify(); err != nil {
		return nil, err
	}
	return t.MarshalBinary()
}
