package firmware

import (
	"errors"
	"fmt"
	"sort"
)

// Verify checks the table's layout as gen_esp32part does before it writes
// a table: every offset aligned (apps to 64 KiB, the rest to 4 KiB), app
// sizes a whole number of sectors, labels unique and at most 16 bytes, no
// entry below the end of the table sector (0x9000 for a table at 0x8000)
// except the primary bootloader and table entries, no overlaps, at most
// one otadata of exactly 0x2000 bytes, no read-only otadata or coredump,
// and read/write NVS partitions of at least 0x3000 bytes. Every problem
// found is reported.
func (t PartitionTable) Verify() error {
	return t.verifyAt(PartitionTableOffset)
}

func (t PartitionTable) verifyAt(tableOffset uint32) error {
	var errs []error
	bad := func(p Partition, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrPartitionTable, p.where(), fmt.Sprintf(format, a...)))
	}
	seen := map[string]Partition{}
	otadata := 0
	for _, p := range t.Partitions {
		if al := offsetAlign(p.Type); p.Offset%al != 0 {
			bad(p, "offset 0x%x is not aligned to 0x%x (%s partitions start on %s boundaries)", p.Offset, al, p.Type, formatSize(al))
		}
		if p.Type == TypeApp && p.Size%0x1000 != 0 {
			bad(p, "size 0x%x is not a multiple of 0x1000 (app partitions are whole flash sectors)", p.Size)
		}
		if len(p.Label) > 16 {
			bad(p, "label is %d bytes, at most 16 fit", len(p.Label))
		}
		if q, dup := seen[p.Label]; dup {
			bad(p, "label is already used by %s; partition names must be unique", q.where())
		}
		seen[p.Label] = p
		if p.Type == TypeData && (p.SubType == SubtypeOTAData || p.SubType == SubtypeCoreDump) && p.Readonly() {
			bad(p, "%s partitions are always read-write and cannot be readonly", SubtypeName(p.Type, p.SubType))
		}
		if p.Type == TypeData && p.SubType == SubtypeNVS && p.Size < nvsMinWritableSize && !p.Readonly() {
			bad(p, "NVS partition of 0x%x bytes must be flagged readonly (a read/write NVS needs at least 0x%x)", p.Size, nvsMinWritableSize)
		}
		if p.Type == TypeData && (p.SubType == SubtypeOTAData || p.SubType == SubtypeTEEOTA) {
			if p.SubType == SubtypeOTAData {
				otadata++
			}
			if p.Size != OTADataSize {
				bad(p, "%s partition must be 0x2000 bytes, is 0x%x", SubtypeName(p.Type, p.SubType), p.Size)
			}
		}
	}
	if otadata > 1 {
		errs = append(errs, fmt.Errorf("%w: %d otadata partitions (data/ota); only one is allowed", ErrPartitionTable, otadata))
	}
	sorted := append([]Partition(nil), t.Partitions...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Offset < sorted[j].Offset })
	tableEnd := uint64(tableOffset) + PartitionTableSize
	for i, p := range sorted {
		primary := (p.Type == TypeBootloader || p.Type == TypePartitionTable) && p.SubType == SubtypePrimary
		if uint64(p.Offset) < tableEnd && !primary {
			bad(p, "offset 0x%x is below 0x%x, the end of the partition table sector", p.Offset, tableEnd)
		}
		if i > 0 && uint64(p.Offset) < sorted[i-1].End() {
			q := sorted[i-1]
			bad(p, "at 0x%x overlaps %s (0x%x-0x%x)", p.Offset, q.where(), q.Offset, q.End()-1)
		}
	}
	return errors.Join(errs...)
}
