// Package serialno turns a product's serial-number template into serial
// numbers (SNs) and back, and splits sequence ranges between stations.
//
// An SN is a board's identity for life: it is printed on the label, written
// into the board's NVS partition and recorded in the audit log. This package
// is pure logic (no I/O, no clock): the audit log reserves a sequence number,
// and this package renders it with the date and lot the caller passes in.
//
// # Templates
//
// A template is fixed text with fields in braces:
//
//	SL{seq:09}                       SL000000042
//	SL-{yy}{ww}-{seq:06}{check:luhn} SL-2649-0000424
//	{lot:4}{seq:05}{check:mod37-36}  A7K200042K
//
// Fields:
//
//	{yy} {yyyy}    year, 2 or 4 digits
//	{mm} {dd}      month and day of month, 2 digits
//	{ww}           ISO 8601 week, 2 digits (01..53)
//	{doy}          day of year, 3 digits (001..366)
//	{lot}          the batch's lot code, 1..32 characters [A-Z0-9]
//	{lot:N}        the lot code, exactly N characters
//	{seq:N}        the sequence number, zero-padded to N digits (1..19); required
//	{check:luhn}     Luhn mod 10 check digit
//	{check:mod37-36} ISO/IEC 7064 MOD 37-36 check character (0-9, A-Z)
//
// Fixed text is printable ASCII without spaces or braces. Each field appears
// at most once; a check field, if any, is the last element of the template.
//
// When a template has {ww} but none of {mm}, {dd} or {doy}, its year fields
// are the ISO week-year, so a YYWW date code never reads as a week of the
// wrong year (2026-12-31 is in week 53 of 2026, 2027-01-01 in week 53 of
// 2026 too). Otherwise years are calendar years.
//
// # What a check character covers
//
// Both check fields cover the whole SN text before them, fixed text included:
//
//   - {check:luhn} runs Luhn mod 10 over every decimal digit before it, left
//     to right, skipping any other character (letters, '-', '/'). Letters of a
//     lot code are therefore not protected; use mod37-36 when lots contain
//     letters.
//   - {check:mod37-36} runs ISO/IEC 7064 MOD 37-36 (a hybrid system over the
//     36 characters 0-9 A-Z) over every letter and digit before it,
//     upper-cased, skipping other characters. It detects every single
//     substitution and every adjacent transposition.
//
// # Ranges
//
// A batch draws sequence numbers from an inclusive [Range]. Several stations
// recording into separate databases each take a disjoint block of it
// ([Range.Split], [Range.Block]); [Overlapping] finds a clash.
package serialno
