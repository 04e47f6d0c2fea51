package serialno_test

import (
	"fmt"
	"time"

	"fleetline/serialno"
)

func ExampleTemplate_Format() {
	day := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, t := range []string{"SL{seq:09}", "SL-{yy}{ww}-{seq:06}{check:luhn}", "{lot:4}{seq:05}{check:mod37-36}"} {
		sn, err := serialno.MustParse(t).Format(42, serialno.Fields{Date: day, Lot: "A7K2"})
		fmt.Println(sn, err)
	}
	// Output:
	// SL000000042 <nil>
	// SL-2649-0000424 <nil>
	// A7K200042K <nil>
}

func ExampleTemplate_ParseSN() {
	t := serialno.MustParse("SL-{yy}{ww}-{seq:06}{check:luhn}")
	p, err := t.ParseSN("SL-2649-0000424")
	fmt.Println(p.Seq, p.Year, p.Week, err)
	_, err = t.ParseSN("SL-2649-0000425")
	fmt.Println(err)
	// Output:
	// 42 2026 49 <nil>
	// serialno: SN "SL-2649-0000425": check luhn is "5", want "4": SN check character is wrong
}

func ExampleRange_Split() {
	r, _ := serialno.ParseRange("1000-1999")
	blocks, _ := r.Split(3)
	fmt.Println(blocks)
	// Output: [1000-1333 1334-1666 1667-1999]
}
