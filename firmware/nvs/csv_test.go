package nvs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const allTypesCSV = `key,type,encoding,value
# a comment line
storage,namespace,,
u8,data,u8,255
i8,data,i8,-128
u16,data,u16,65535
i16,data,i16,-32768
u32,data,u32,4294967295
i32,data,i32,-2147483648
u64,data,u64,18446744073709551615
i64,data,i64,-9223372036854775808
str,data,string,"hello, world"
hex,data,hex2bin,00ff10
b64,data,base64,aGVsbG8=
bin,data,binary,raw bytes
fill,data,blob_fill(6;0xaa),abc
szfill,data,blob_sz_fill(4;0x00),ab
other,namespace,,
cert,file,binary,cert.pem
note,file,string,note.txt
`

func TestGenerateCSVAllTypes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cert.pem"), testCertPEM, 0o644)
	os.WriteFile(filepath.Join(dir, "note.txt"), []byte("from a file"), 0o644)
	path := filepath.Join(dir, "in.csv")
	os.WriteFile(path, []byte(allTypesCSV), 0o644)
	img, err := GenerateCSVFile(path, 0x3000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, img)
	for _, tc := range []struct {
		key  string
		want string
	}{
		{"u8", "255"}, {"i8", "-128"}, {"u16", "65535"}, {"i16", "-32768"}, {"u32", "4294967295"},
		{"i32", "-2147483648"}, {"u64", "18446744073709551615"}, {"i64", "-9223372036854775808"},
		{"str", `"hello, world"`},
	} {
		e, ok := p.Get("storage", tc.key)
		if !ok || e.valueString() != tc.want {
			t.Errorf("%s = %s, want %s", tc.key, e.valueString(), tc.want)
		}
	}
	blobs := map[string]string{"hex": "\x00\xff\x10", "b64": "hello", "bin": "raw bytes", "fill": "abc\xaa\xaa\xaa", "szfill": "\x02\x00\x00\x00ab\x00\x00"}
	for k, want := range blobs {
		if b, err := p.Blob("storage", k); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", k, b, err, want)
		}
	}
	if b, err := p.Blob("other", "cert"); err != nil || !bytes.Equal(b, testCertPEM) {
		t.Errorf("file blob %q %v", b, err)
	}
	if s, err := p.String("other", "note"); err != nil || s != "from a file" {
		t.Errorf("file string %q %v", s, err)
	}
}

func TestGenerateCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		csv  string
		want error
		msg  string
	}{
		{"key too long", "key,type,encoding,value\nns,namespace,,\nthis_key_is_too_long,data,u8,1\n", ErrKeyTooLong, `in.csv:3: key "this_key_is_too_long": key longer than 15 characters (it has 20)`},
		{"string too large", "key,type,encoding,value\nns,namespace,,\ns,data,string," + strings.Repeat("x", 4000) + "\n", ErrValueTooLarge, `in.csv:3: key "s": value too large: string of 4001 bytes`},
		{"odd hex", "key,type,encoding,value\nns,namespace,,\nh,data,hex2bin,abc\n", ErrEncoding, "hex2bin value has odd length 3"},
		{"bad hex", "key,type,encoding,value\nns,namespace,,\nh,data,hex2bin,zz\n", ErrEncoding, "hex2bin: encoding/hex"},
		{"bad base64", "key,type,encoding,value\nns,namespace,,\nh,data,base64,abcde\n", ErrEncoding, "base64"},
		{"unknown encoding", "key,type,encoding,value\nns,namespace,,\nh,data,float,1.5\n", ErrEncoding, `"float" (want u8`},
		{"bad int", "key,type,encoding,value\nns,namespace,,\nh,data,u8,0x10\n", ErrEncoding, `"0x10" is not a decimal integer`},
		{"int range", "key,type,encoding,value\nns,namespace,,\nh,data,u16,70000\n", ErrValueRange, "70000 does not fit u16"},
		{"negative unsigned", "key,type,encoding,value\nns,namespace,,\nh,data,u32,-1\n", ErrValueRange, "-1 does not fit u32"},
		{"huge", "key,type,encoding,value\nns,namespace,,\nh,data,i64,99999999999999999999\n", ErrValueRange, "does not fit i64"},
		{"no namespace", "key,type,encoding,value\nh,data,u8,1\n", ErrNoNamespace, "in.csv:2: key \"h\": entry before any namespace"},
		{"bad header", "name,type,value\n", ErrEncoding, `lacks column "key"`},
		{"empty", "", ErrEncoding, "empty file"},
		{"full", "key,type,encoding,value\nns,namespace,,\nh,data,hex2bin," + strings.Repeat("ab", 9000) + "\n", ErrPartitionFull, "in.csv:3: key \"h\": page 2: size parameter is less"},
		{"fill too long", "key,type,encoding,value\nns,namespace,,\nh,data,blob_fill(2;0x00),abc\n", ErrValueTooLarge, "exceeds the 2 of blob_fill"},
		{"fill syntax", "key,type,encoding,value\nns,namespace,,\nh,data,blob_fill(2),abc\n", ErrEncoding, "want blob_fill(LEN;0xPP)"},
		{"missing file", "key,type,encoding,value\nns,namespace,,\nh,file,binary,nope.bin\n", os.ErrNotExist, "read file value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "in.csv")
			os.WriteFile(path, []byte(tc.csv), 0o644)
			_, err := GenerateCSVFile(path, 0x3000, BuildOptions{})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v\nwant %v containing %q", err, tc.want, tc.msg)
			}
			t.Log(err)
		})
	}
	if _, err := GenerateCSV(strings.NewReader("key,type,encoding,value\nns,namespace,,\nf,file,binary,x\n"), CSVOptions{Size: 0x3000}); !errors.Is(err, ErrEncoding) {
		t.Errorf("file row without ReadFile: %v", err)
	}
}

// TestCSVErrorsHideFileContents: a "file" row whose encoding does not fit
// the file (an integer, say) must not put the file into the error, since
// the file is often the claim private key.
func TestCSVErrorsHideFileContents(t *testing.T) {
	key := testKeyPEM(t)
	long := []byte(strings.Repeat("serial-", 10))
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"private key", key, "<private key, " + strconv.Itoa(len(bytes.TrimSpace(key))) + " bytes, redacted> is not a decimal integer"},
		{"long value", long, "a value of 70 bytes is not a decimal integer"},
		{"short value", []byte("twelve"), `"twelve" is not a decimal integer`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "value.pem"), tc.file, 0o600)
			path := filepath.Join(dir, "in.csv")
			os.WriteFile(path, []byte("key,type,encoding,value\nfctry,namespace,,\nclaim_key,file,u32,value.pem\n"), 0o644)
			_, err := GenerateCSVFile(path, 0x3000, BuildOptions{})
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("err = %v, want ErrEncoding", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, `in.csv:3: key "claim_key"`) {
				t.Errorf("error %q lacks %q", msg, tc.want)
			}
			if strings.Contains(msg, "PRIVATE KEY") || len(tc.file) > 32 && strings.Contains(msg, string(tc.file[28:48])) {
				t.Fatalf("error shows the file's contents: %s", msg)
			}
		})
	}
}
