package main

import "testing"

func TestParseNum(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"0x10000", 0x10000, true}, {"65536", 65536, true}, {"64k", 64 << 10, true}, {"4M", 4 << 20, true},
		{"0X1000", 0x1000, true}, {"", 0, false}, {"0x", 0, false}, {"12q", 0, false}, {"8192M", 0, false},
	}
	for _, tt := range tests {
		got, err := parseNum(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseNum(%q) = %#x, %v", tt.in, got, err)
		}
	}
}
