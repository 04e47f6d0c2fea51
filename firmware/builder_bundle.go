package firmware

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteExampleBundle writes a whole bundle made by the image builder into
// dir: the chip's bootloader at its ROM's offset, the default partition
// table (with the factory-data partition) at 0x8000, the app built from
// app at the factory app partition, and bundle.toml naming the three. The
// demo line flashes it, and so do the station's end-to-end tests.
func WriteExampleBundle(dir string, app AppSpec) error {
	bootOff, ok := app.Chip.BootloaderOffset()
	if !ok {
		return fmt.Errorf("example bundle: chip %v: unknown bootloader offset", app.Chip)
	}
	boot, err := BuildBootloader(BootloaderSpec{Chip: app.Chip})
	if err != nil {
		return fmt.Errorf("example bundle: build the bootloader: %w", err)
	}
	table := DefaultPartitionTable()
	tableBin, err := table.MarshalBinary()
	if err != nil {
		return fmt.Errorf("example bundle: build the partition table: %w", err)
	}
	appBin, err := BuildApp(app)
	if err != nil {
		return fmt.Errorf("example bundle: build the app: %w", err)
	}
	appPart, ok := table.Find(LabelFactoryApp)
	if !ok {
		return fmt.Errorf("example bundle: the default partition table has no %q partition", LabelFactoryApp)
	}
	manifest := fmt.Sprintf(`# A bundle made by fleetline's image builder.
chip = %q
[[files]]
name = "bootloader"
offset = 0x%x
path = "bootloader.bin"
[[files]]
name = "partition-table"
offset = 0x%x
path = "partition-table.bin"
[[files]]
name = "app"
offset = 0x%x
path = "app.bin"
`, app.Chip.String(), bootOff, PartitionTableOffset, appPart.Offset)
	var errs []error
	for name, data := range map[string][]byte{"bootloader.bin": boot, "partition-table.bin": tableBin, "app.bin": appBin, "bundle.toml": []byte(manifest)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("example bundle: write into %s: %w", dir, err)
	}
	return nil
}
