package nvs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Row is one line of a generator CSV: key,type,encoding,value.
type Row struct {
	Line     int // 1-based line where the row starts
	Key      string
	Type     string // namespace, data or file
	Encoding string // u8..i64, string, hex2bin, base64, binary, blob_fill(N;0xPP), blob_sz_fill(N;0xPP)
	Value    string
}

// ParseCSV reads the rows of an nvs_partition_gen CSV file. The first line
// names the columns (key, type, encoding, value, in any order); lines
// starting with '#' are comments.
func ParseCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &CSVError{Line: 1, Err: fmt.Errorf("%w: empty file, expected the header key,type,encoding,value", ErrEncoding)}
		}
		return nil, &CSVError{Line: 1, Err: err}
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, want := range []string{"key", "type", "encoding", "value"} {
		if _, ok := col[want]; !ok {
			return nil, &CSVError{Line: 1, Err: fmt.Errorf("%w: header %q lacks column %q (want key,type,encoding,value)", ErrEncoding, strings.Join(header, ","), want)}
		}
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, &CSVError{Line: line, Err: err}
		}
		field := func(name string) string {
			if i := col[name]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		rows = append(rows, Row{Line: line, Key: field("key"), Type: field("type"), Encoding: field("encoding"), Value: field("value")})
	}
}

// CSVOptions say how to turn CSV rows into an image.
type CSVOptions struct {
	Name  string // file name for error messages
	Size  int    // partition size in bytes
	Build BuildOptions
	// ReadFile reads the value of a "file" row. GenerateCSVFile resolves
	// paths against the CSV's directory; nil refuses file rows.
	ReadFile func(path string) ([]byte, error)
}

// GenerateCSV builds an image from a generator CSV, as
// `nvs_partition_gen.py generate` does. Errors name the CSV line.
func GenerateCSV(r io.Reader, opt CSVOptions) ([]byte, error) {
	rows, err := ParseCSV(r)
	if err != nil {
		var ce *CSVError
		if errors.As(err, &ce) {
			ce.File = opt.Name
		}
		return nil, err
	}
	b, err := NewBuilder(opt.Size, opt.Build)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		if err := addRow(b, row, opt); err != nil {
			return nil, &CSVError{File: opt.Name, Line: row.Line, Key: row.Key, Err: err}
		}
	}
	return b.Bytes(), nil
}

// GenerateCSVFile builds an image from the CSV file at path; "file" rows
// name files relative to the CSV's directory.
func GenerateCSVFile(path string, size int, opt BuildOptions) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("nvs: open CSV: %w", err)
	}
	defer f.Close()
	dir := filepath.Dir(path)
	return GenerateCSV(f, CSVOptions{Name: path, Size: size, Build: opt, ReadFile: func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return os.ReadFile(p)
	}})
}

func addRow(b *Builder, row Row, opt CSVOptions) error {
	if len(row.Key) > MaxKeyLen {
		return fmt.Errorf("%w (it has %d)", ErrKeyTooLong, len(row.Key))
	}
	if row.Type == "namespace" {
		return b.namespace(row.Key)
	}
	value := []byte(row.Value)
	if row.Type == "file" {
		if opt.ReadFile == nil {
			return fmt.Errorf("%w: file rows are not allowed here", ErrEncoding)
		}
		data, err := opt.ReadFile(row.Value)
		if err != nil {
			return fmt.Errorf("read file value: %w", err)
		}
		value = data
	}
	e, err := decodeValue(row.Encoding, value)
	if err != nil {
		return err
	}
	e.Key = row.Key
	return b.add(e)
}

var fillRE = regexp.MustCompile(`^(blob_fill|blob_sz_fill)\((\d+);(0x[0-9a-fA-F]{2})\)`)

// decodeValue turns a CSV value into an entry following the generator's
// encodings.
func decodeValue(encoding string, value []byte) (Entry, error) {
	if strings.HasPrefix(encoding, "blob_fill") || strings.HasPrefix(encoding, "blob_sz_fill") {
		m := fillRE.FindStringSubmatch(encoding)
		if m == nil {
			return Entry{}, fmt.Errorf("%w: %q: want blob_fill(LEN;0xPP) or blob_sz_fill(LEN;0xPP)", ErrEncoding, encoding)
		}
		n, err := strconv.Atoi(m[2])
		if err != nil || n > MaxBlobLen {
			return Entry{}, fmt.Errorf("%w: %q: length too large", ErrValueTooLarge, encoding)
		}
		pad, _ := strconv.ParseUint(m[3][2:], 16, 8)
		if len(value) > n {
			return Entry{}, fmt.Errorf("%w: value of %d bytes exceeds the %d of %s", ErrValueTooLarge, len(value), n, encoding)
		}
		var data []byte
		if m[1] == "blob_sz_fill" {
			data = binary.LittleEndian.AppendUint32(data, uint32(len(value)))
		}
		data = append(data, value...)
		fill := n - len(value)
		for i := 0; i < fill; i++ {
			data = append(data, byte(pad))
		}
		return Entry{Type: Blob, Data: data}, nil
	}
	switch enc := strings.ToLower(encoding); enc {
	case "string":
		return Entry{Type: String, Data: value}, nil
	case "binary":
		return Entry{Type: Blob, Data: value}, nil
	case "hex2bin":
		s := strings.TrimSpace(string(value))
		if len(s)%2 != 0 {
			return Entry{}, fmt.Errorf("%w: hex2bin value has odd length %d, should be a multiple of 2", ErrEncoding, len(s))
		}
		data, err := hex.DecodeString(s)
		if err != nil {
			return Entry{}, fmt.Errorf("%w: hex2bin: %v", ErrEncoding, err)
		}
		return Entry{Type: Blob, Data: data}, nil
	case "base64":
		data, err := lenientBase64(value)
		if err != nil {
			return Entry{}, fmt.Errorf("%w: base64: %v", ErrEncoding, err)
		}
		return Entry{Type: Blob, Data: data}, nil
	case "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64":
		return parseInt(enc, string(value))
	}
	return Entry{}, fmt.Errorf("%w: %q (want u8, i8, u16, i16, u32, i32, u64, i64, string, hex2bin, base64 or binary)", ErrEncoding, encoding)
}

var intTypes = map[string]Type{"u8": U8, "i8": I8, "u16": U16, "i16": I16, "u32": U32, "i32": I32, "u64": U64, "i64": I64}

// parseInt reads a decimal integer as Python's int() does: surrounding
// space, a sign and digit-separating underscores allowed.
func parseInt(enc, s string) (Entry, error) {
	t := intTypes[enc]
	s = strings.TrimSpace(s)
	digits := strings.ReplaceAll(s, "_", "")
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(strings.TrimPrefix(digits, "-"), "+")
	if digits == "" || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return Entry{}, fmt.Errorf("%w: %s is not a decimal integer", ErrEncoding, describeInput(s))
	}
	u, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return Entry{}, fmt.Errorf("%w: %s does not fit %s", ErrValueRange, s, t)
		}
		return Entry{}, fmt.Errorf("%w: %s is not a decimal integer", ErrEncoding, describeInput(s))
	}
	e := Entry{Type: t, Bits: u}
	if neg {
		if !t.signed() || u > 1<<63 {
			return Entry{}, fmt.Errorf("%w: %s does not fit %s", ErrValueRange, s, t)
		}
		e.Bits = uint64(-int64(u))
	} else if t.signed() && u > 1<<63-1 {
		return Entry{}, fmt.Errorf("%w: %s does not fit %s", ErrValueRange, s, t)
	}
	if err := e.checkInt(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// lenientBase64 decodes like Python's binascii.a2b_base64: characters
// outside the alphabet are skipped, and decoding stops at padding.
func lenientBase64(in []byte) ([]byte, error) {
	var clean []byte
	for _, c := range in {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			if len(clean)%4 >= 2 {
				goto done
			}
		}
	}
done:
	if len(clean)%4 == 1 {
		return nil, fmt.Errorf("%d base64 digits is not a whole number of bytes", len(clean))
	}
	return base64.RawStdEncoding.DecodeString(string(clean))
}
