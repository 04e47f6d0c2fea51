package nvs

import (
	"bytes"
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
