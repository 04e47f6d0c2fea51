package nvs

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func FuzzParseNVS(f *testing.F) {
	for _, tc := range goldenCases {
		img, err := Build(tc.entries, 0x3000, BuildOptions{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(img)
	}
	f.Add(bytes.Repeat([]byte{0xFF}, PageSize))
	f.Add(make([]byte, PageSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		for _, e := range p.Entries() {
			_ = e.valueString()
		}
	})
}

func FuzzNVSCSV(f *testing.F) {
	f.Add(allTypesCSV)
	f.Add("key,type,encoding,value\nns,namespace,,\ns,data,string,\"a\nb\"\n")
	f.Add("key,type,encoding,value\nns,namespace,,\nb,data,base64,====\n")
	f.Fuzz(func(t *testing.T, csv string) {
		img, err := GenerateCSV(strings.NewReader(csv), CSVOptions{Size: 0x4000})
		if err != nil {
			return
		}
		p, err := Parse(img)
		if err != nil {
			t.Fatalf("generated image does not parse: %v", err)
		}
		if len(p.Problems) > 0 {
			t.Fatalf("generated image has problems: %v", p.Problems)
		}
	})
}

func FuzzKeysPartition(f *testing.F) {
	var k Key
	for i := range k {
		k[i] = byte(i)
	}
	f.Add(KeysPartition(k))
	f.Add(k[:])
	f.Add(bytes.Repeat([]byte{0xFF}, PageSize))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, img []byte) {
		k, err := ParseKeysPartition(img)
		if err != nil {
			if strings.Contains(err.Error(), fmt.Sprintf("%08x", crc(k[:]))) {
				t.Fatalf("error shows the key's CRC: %v", err)
			}
			return
		}
		back, err := ParseKeysPartition(KeysPartition(k))
		if err != nil || back != k {
			t.Fatalf("KeysPartition of a parsed key does not read back: %v", err)
		}
	})
}

// FuzzDecrypt: any image decrypts without a panic, and encrypting the
// result gives the image back (the page headers, which say which entries
// are encrypted, are left as they are).
func FuzzDecrypt(f *testing.F) {
	var k Key
	for i := range k {
		k[i] = byte(i * 7)
	}
	for _, tc := range goldenCases {
		img, err := Build(tc.entries, 0x3000, BuildOptions{Key: &k})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(img)
	}
	f.Add(bytes.Repeat([]byte{0xFF}, PageSize+17))
	f.Fuzz(func(t *testing.T, img []byte) {
		plain, err := Decrypt(img, k)
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		again, err := Encrypt(plain, k)
		if err != nil || !bytes.Equal(again, img) {
			t.Fatalf("Encrypt(Decrypt(img)) differs from img: %v", err)
		}
		_, _ = Parse(plain)
	})
}
