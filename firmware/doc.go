// Package firmware reads, checks and builds what a factory line writes into
// an ESP32-family board, byte for byte as ESP-IDF and esptool lay it out.
//
// Three formats are covered:
//
//   - App and bootloader images (the ".bin" files ESP-IDF's build produces):
//     an 8-byte header (magic 0xE9, segment count, flash mode, flash
//     size/frequency nibbles, entry point), a 16-byte extended header (WP
//     pin, SPI drive strengths, chip id, supported revision range, whether a
//     SHA-256 is appended), the load segments, a checksum byte placed so the
//     file length is a multiple of 16, and the optional SHA-256 of all of
//     that. Apps carry an esp_app_desc_t at the start of their first (DROM)
//     segment, i.e. at file offset 0x20; ESP-IDF v5.2+ bootloaders carry an
//     esp_bootloader_desc_t at the start of their first DRAM segment.
//     [ParseImage], [Image.Verify] and [Image.WithFlashSettings] handle them.
//
//   - Partition tables, in the binary form the bootloader reads at 0x8000
//     (32-byte entries, an MD5 row, 0xFF fill) and in the CSV form of
//     ESP-IDF's gen_esp32part tool: [ParsePartitionTable],
//     [PartitionTable.MarshalBinary], [ParsePartitionCSV] and
//     [PartitionTable.CSV].
//
//   - Bundles: the set of (offset, file) regions a batch flashes, loaded
//     from an ESP-IDF build directory (build/flasher_args.json), from a
//     fleetline manifest with expected SHA-256 sums, or from explicit
//     "OFFSET FILE" pairs. [Bundle.Validate] reports every reason a bundle
//     would not boot on a given board before anything touches it.
//
// The builder ([BuildApp], [BuildBootloader], [DefaultPartitionTable]) makes
// valid images with realistic, compressible content so tests, the virtual
// board and the demo never need binaries built elsewhere.
package firmware
