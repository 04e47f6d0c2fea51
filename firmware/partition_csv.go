package firmware

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CSVOptions say where the table and bootloader sit, for the entries whose
// offset and size gen_esp32part derives from them.
type CSVOptions struct {
	// TableOffset is the partition table's flash offset; 0 means 0x8000.
	// Automatic offsets start after its sector.
	TableOffset uint32
	// BootloaderOffset is the chip's bootloader offset, needed only when
	// the CSV has a bootloader/primary entry (its size runs up to the table).
	BootloaderOffset *uint32
	// RecoveryBootloaderOffset is needed only for a bootloader/recovery entry.
	RecoveryBootloaderOffset *uint32
}

// ParsePartitionCSV reads a partition table in gen_esp32part's CSV format
// (Name, Type, SubType, Offset, Size, Flags; '#' comments; K/M suffixes;
// empty offsets placed after the previous entry at the type's alignment; a
// negative size meaning "up to this end offset") with the default table
// offset 0x8000, then checks the layout as Verify does. Errors name the line.
func ParsePartitionCSV(r io.Reader) (PartitionTable, error) {
	return CSVOptions{}.Parse(r)
}

// csvRow is one CSV entry before offsets are filled in.
type csvRow struct {
	p         Partition
	hasOffset bool
	endOffset uint64 // from a negative size: the partition ends here
}

// Parse reads a CSV partition table with these options.
func (o CSVOptions) Parse(r io.Reader) (PartitionTable, error) {
	tableOff := o.TableOffset
	if tableOff == 0 {
		tableOff = PartitionTableOffset
	}
	var rows []csvRow
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		row, err := o.parseLine(text, tableOff)
		if err != nil {
			return PartitionTable{}, fmt.Errorf("%w: line %d: %v", ErrPartitionTable, line, err)
		}
		row.p.Line = line
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return PartitionTable{}, fmt.Errorf("read partition CSV: %w", err)
	}
	t := PartitionTable{}
	lastEnd := uint64(tableOff) + PartitionTableSize
	for i, row := range rows {
		p := row.p
		primary := (p.Type == TypeBootloader || p.Type == TypePartitionTable) && p.SubType == SubtypePrimary
		if !primary {
			if row.hasOffset && uint64(p.Offset) < lastEnd {
				if i == 0 {
					return PartitionTable{}, fmt.Errorf("%w: line %d: partition %q sets offset 0x%x, but the partition table at 0x%x occupies its whole sector; use 0x%x or higher",
						ErrPartitionTable, p.Line, p.Label, p.Offset, tableOff, lastEnd)
				}
				return PartitionTable{}, fmt.Errorf("%w: line %d: partition %q sets offset 0x%x, but the previous partition ends at 0x%x (partitions overlap)",
					ErrPartitionTable, p.Line, p.Label, p.Offset, lastEnd)
			}
			if !row.hasOffset {
				al := uint64(offsetAlign(p.Type))
				lastEnd = (lastEnd + al - 1) / al * al
				if lastEnd > 0xFFFFFFFF {
					return PartitionTable{}, fmt.Errorf("%w: line %d: partition %q would start past 4 GiB", ErrPartitionTable, p.Line, p.Label)
				}
				p.Offset = uint32(lastEnd)
			}
			if row.endOffset != 0 {
				if row.endOffset <= uint64(p.Offset) {
					return PartitionTable{}, fmt.Errorf("%w: line %d: partition %q has negative size -0x%x, which must be an end offset above its start 0x%x",
						ErrPartitionTable, p.Line, p.Label, row.endOffset, p.Offset)
				}
				p.Size = uint32(row.endOffset - uint64(p.Offset))
			}
			lastEnd = p.End()
		}
		t.Partitions = append(t.Partitions, p)
	}
	if err := t.verifyAt(tableOff); err != nil {
		return PartitionTable{}, err
	}
	return t, nil
}

func (o CSVOptions) parseLine(text string, tableOff uint32) (csvRow, error) {
	fields := strings.Split(text+",,,,", ",")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	var row csvRow
	p := &row.p
	p.Label = fields[0]
	if len(p.Label) > 16 {
		return row, fmt.Errorf("name %s is %d bytes, at most 16 fit", quoteShort(p.Label), len(p.Label))
	}
	if i := strings.IndexByte(p.Label, 0); i >= 0 {
		// The binary table pads labels with NUL and ends them at the
		// first one, so such a name could not be read back.
		return row, fmt.Errorf("name %s has a NUL byte at position %d; use printable characters", quoteShort(p.Label), i)
	}
	if fields[1] == "" {
		return row, errors.New("field 'type' can't be left empty")
	}
	t, err := ParsePartitionType(fields[1])
	if err != nil {
		return row, fmt.Errorf("type: %v", err)
	}
	p.Type = t
	switch {
	case fields[2] == "" && t == TypeApp:
		return row, errors.New("app partition cannot have an empty subtype")
	case fields[2] == "":
		p.SubType = SubtypeUndefined
	default:
		if p.SubType, err = ParseSubtype(t, fields[2]); err != nil {
			return row, fmt.Errorf("subtype: %v", err)
		}
	}
	if err := o.placeFixed(&row, tableOff); err != nil {
		return row, err
	}
	if !row.hasOffset && fields[3] != "" {
		v, err := parseSize(fields[3])
		if err != nil {
			return row, fmt.Errorf("offset %s: %v", quoteShort(fields[3]), err)
		}
		p.Offset, row.hasOffset = uint32(v), true
	}
	if p.Size == 0 {
		if err := parseCSVSize(&row, fields[4]); err != nil {
			return row, err
		}
	}
	for _, f := range strings.Split(fields[5], ":") {
		switch strings.TrimSpace(f) {
		case "":
		case "encrypted":
			p.Flags |= FlagEncrypted
		case "readonly":
			p.Flags |= FlagReadonly
		default:
			return row, fmt.Errorf("flag column contains unknown flag %s (known: encrypted, readonly)", quoteShort(f))
		}
	}
	return row, nil
}

// placeFixed sets the offset and size gen_esp32part fixes for bootloader
// and partition-table entries, whatever the CSV says.
func (o CSVOptions) placeFixed(row *csvRow, tableOff uint32) error {
	p := &row.p
	switch p.Type {
	case TypeBootloader:
		if o.BootloaderOffset == nil {
			return errors.New("bootloader entry needs the primary bootloader offset (set CSVOptions.BootloaderOffset for the chip)")
		}
		if *o.BootloaderOffset >= tableOff {
			return fmt.Errorf("bootloader offset 0x%x is not below the partition table at 0x%x", *o.BootloaderOffset, tableOff)
		}
		p.Size = tableOff - *o.BootloaderOffset
		switch p.SubType {
		case SubtypePrimary:
			p.Offset, row.hasOffset = *o.BootloaderOffset, true
		case SubtypeRecovery:
			if o.RecoveryBootloaderOffset == nil {
				return errors.New("bootloader/recovery entry needs the recovery bootloader offset")
			}
			p.Offset, row.hasOffset = *o.RecoveryBootloaderOffset, true
		}
	case TypePartitionTable:
		p.Size = PartitionTableSize
		if p.SubType == SubtypePrimary {
			p.Offset, row.hasOffset = tableOff, true
		}
	}
	return nil
}

func parseCSVSize(row *csvRow, s string) error {
	if s == "" {
		return errors.New("size field can't be empty")
	}
	neg := strings.HasPrefix(s, "-")
	v, err := parseSize(strings.TrimPrefix(s, "-"))
	if err != nil {
		return fmt.Errorf("size %s: %v", quoteShort(s), err)
	}
	if neg {
		row.endOffset = v
		return nil
	}
	row.p.Size = uint32(v)
	return nil
}

// CSV writes the table in gen_esp32part's CSV format: the two header
// comments, then one "name,type,subtype,offset,size,flags" row per entry,
// with names for known types and subtypes and K/M sizes where exact.
func (t PartitionTable) CSV() string {
	var b strings.Builder
	b.WriteString("# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n")
	for _, p := range t.Partitions {
		var flags []string
		if p.Encrypted() {
			flags = append(flags, "encrypted")
		}
		if p.Readonly() {
			flags = append(flags, "readonly")
		}
		fmt.Fprintf(&b, "%s,%s,%s,0x%x,%s,%s\n", p.Label, p.Type, SubtypeName(p.Type, p.SubType), p.Offset, formatSize(p.Size), strings.Join(flags, ":"))
	}
	return b.String()
}

// quoteShort quotes a CSV field for an error message, cut to its first 24
// bytes: a binary file or a stray paste read as CSV would otherwise put
// kilobytes into one line.
func quoteShort(s string) string {
	const max = 24
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "..."
}
