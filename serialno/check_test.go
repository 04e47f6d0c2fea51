package serialno

import "testing"

func TestLuhnVectors(t *testing.T) {
	valid := []string{"79927398713", "4539578763621486", "0", "18", "059", "1234-5678-9012-3452"}
	for _, s := range valid {
		if !LuhnValid(s) {
			t.Errorf("LuhnValid(%q) = false, want true", s)
		}
	}
	invalid := []string{"79927398710", "79927398712", "4539578763621487", "", "ABC", "97992739871"}
	for _, s := range invalid {
		if LuhnValid(s) {
			t.Errorf("LuhnValid(%q) = true, want false", s)
		}
	}
	if got := LuhnDigit("7992739871"); got != '3' {
		t.Errorf("LuhnDigit(7992739871) = %c, want 3", got)
	}
}

func TestMod37_36Vectors(t *testing.T) {
	// Published examples: the GRid on Wikipedia, an ISAN, and vectors used
	// by independent ISO 7064 implementations.
	tests := []struct{ body, check string }{
		{"A12425GABC1234002", "M"},
		{"RABD", "A"},
		{"X0H", "X"},
		{"0000000189470000", "8"}, // ISAN 0000-0001-8947-0000-8
	}
	for _, tc := range tests {
		if got := string(Mod37_36Char(tc.body)); got != tc.check {
			t.Errorf("Mod37_36Char(%q) = %s, want %s", tc.body, got, tc.check)
		}
		if !Mod37_36Valid(tc.body + tc.check) {
			t.Errorf("Mod37_36Valid(%q) = false", tc.body+tc.check)
		}
	}
	if !Mod37_36Valid("A1-2425G-ABC1234002-M") {
		t.Error("separators must be skipped")
	}
	for _, s := range []string{"A12425GABC1234002N", "", "-", "A21425GABC1234002M"} {
		if Mod37_36Valid(s) {
			t.Errorf("Mod37_36Valid(%q) = true, want false", s)
		}
	}
}

// Every single substitution and adjacent transposition is caught.
func TestMod37_36DetectsSingleErrors(t *testing.T) {
	body := "SL2649000042"
	sn := body + string(Mod37_36Char(body))
	for i := 0; i < len(sn); i++ {
		for _, c := range []byte(alnum) {
			if c == sn[i] {
				continue
			}
			b := []byte(sn)
			b[i] = c
			if Mod37_36Valid(string(b)) {
				t.Fatalf("substitution %q not detected", b)
			}
		}
		if i+1 < len(sn) && sn[i] != sn[i+1] {
			b := []byte(sn)
			b[i], b[i+1] = b[i+1], b[i]
			if Mod37_36Valid(string(b)) {
				t.Fatalf("transposition %q not detected", b)
			}
		}
	}
}
