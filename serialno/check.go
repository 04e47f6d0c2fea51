package serialno

import "fmt"

// CheckKind names a check-character algorithm.
type CheckKind string

// The supported check algorithms.
const (
	CheckNone     CheckKind = ""
	CheckLuhn     CheckKind = "luhn"
	CheckMod37_36 CheckKind = "mod37-36"
)

// alnum is the ISO/IEC 7064 alphabet for MOD 37-36: value = index.
const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// alnumValue returns the MOD 37-36 value of c (case-insensitive), or -1.
func alnumValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	}
	return -1
}

// LuhnDigit returns the Luhn mod 10 check digit for the decimal digits of s;
// characters that are not digits are skipped.
func LuhnDigit(s string) byte {
	sum, double := 0, true // the digit next to the check digit is doubled
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// LuhnValid reports whether the digits of s, the last one being the check
// digit, pass Luhn mod 10. Non-digits are skipped; s needs at least one digit.
func LuhnValid(s string) bool {
	last := -1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			last = i
			break
		}
	}
	if last < 0 {
		return false
	}
	return LuhnDigit(s[:last]) == s[last]
}

// Mod37_36Char returns the ISO/IEC 7064 MOD 37-36 check character for the
// letters and digits of s (upper-cased); other characters are skipped.
func Mod37_36Char(s string) byte {
	const m = 36
	p := m
	for i := 0; i < len(s); i++ {
		v := alnumValue(s[i])
		if v < 0 {
			continue
		}
		p = mod3736Step(p, v)
	}
	// Choose c so that the running sum with c lands on 1 (mod 36).
	return alnum[(m+1-p)%m]
}

// mod3736Step is one step of the hybrid MOD 37-36 recursion.
func mod3736Step(p, v int) int {
	const m = 36
	s := (p + v) % m
	if s == 0 {
		s = m
	}
	return (2 * s) % (m + 1)
}

// Mod37_36Valid reports whether s, whose last letter or digit is the check
// character, passes ISO/IEC 7064 MOD 37-36 (case-insensitive).
func Mod37_36Valid(s string) bool {
	for i := len(s) - 1; i >= 0; i-- {
		if alnumValue(s[i]) < 0 {
			continue
		}
		return alnum[alnumValue(s[i])] == Mod37_36Char(s[:i])
	}
	return false
}

// checkChar computes the check character of kind over text.
func checkChar(kind CheckKind, text string) (byte, error) {
	switch kind {
	case CheckLuhn:
		return LuhnDigit(text), nil
	case CheckMod37_36:
		return Mod37_36Char(text), nil
	}
	return 0, fmt.Errorf("serialno: unknown check %q", kind)
}
