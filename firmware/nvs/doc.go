// Package nvs reads and writes ESP-IDF NVS (non-volatile storage) partitions:
// the key-value store a board's nvs_flash library keeps in a flash
// partition, and the per-device factory data fleetline puts there.
//
// # Layout
//
// A partition is a run of 4 KiB pages. Each page starts with a 32-byte
// header (state u32, sequence number u32, format version u8, 19 reserved
// bytes, CRC32 of bytes 4..28), a 32-byte entry state bitmap (two bits per
// entry: 11 empty, 10 written, 00 erased) and 126 entries of 32 bytes. An
// entry holds a namespace index, a type, a span (how many entries it covers),
// a chunk index, a CRC32 of its own bytes 0..4 and 8..32, a 16-byte
// NUL-padded key and 8 bytes of data. Integers live in the data field;
// strings and blob chunks store size, reserved 0xFFFF and a CRC32 of the
// payload there and carry the payload in the following span-1 entries.
// Namespaces are U8 entries in namespace 0 whose value is the index the
// namespace's entries use. Format version 2 (header byte 0xFE) splits blobs
// into BLOB_DATA chunks (at most one per page) tied together by a BLOB_IDX
// entry; version 1 (0xFF) keeps whole blobs in one page.
//
// All CRC32s are the IEEE polynomial with the register seeded 0xFFFFFFFF and
// no final inversion, which is crc32.Update(0xFFFFFFFF, IEEE, b) in Go.
//
// # Parts
//
//   - [Builder] and [Build] write a fresh image the way ESP-IDF's
//     nvs_partition_gen.py does, byte for byte; [ParseCSV] and [GenerateCSV]
//     read the generator's CSV input.
//   - [Parse] reads any image (pages in any state, erased entries, CRC
//     errors reported, multi-page blobs reassembled) into a [Partition].
//   - [Store] changes a partition in place over a [Flash] with NOR semantics,
//     as nvs_flash does on the board: new entries, erased old ones, pages
//     marked full, spare page kept, pages reclaimed.
//   - [FactoryData], [BuildFactoryNVS] and [ReadFactory] are fleetline's
//     factory firmware contract: which keys carry the claim credentials, the
//     SN, the template and the endpoint, and which the firmware writes after
//     provisioning.
package nvs
