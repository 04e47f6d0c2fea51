// Package spiffs writes and reads SPIFFS filesystem images the way
// ESP-IDF's spiffsgen.py lays them out, for firmware that reads its claim
// credentials from files rather than NVS.
//
// # Layout
//
// The image is a run of blocks (4096 bytes by default), each split into
// logical pages (256 bytes by default). The first page(s) of a block are the
// object lookup table: one object id (2 bytes) per remaining page of the
// block, 0xFFFF for a free page, the top bit set for an object index page.
// The second-to-last id slot of the last lookup page carries the magic
// 0x20140529 ^ page size (^ blocks-in-image minus block number, with
// use-magic-len), so that the SPIFFS driver recognises a formatted block;
// the last slot is the erase count, left erased.
//
// A file is an object: an index header page (object id | 0x8000, span 0,
// flags 0xF8, padding to 8 bytes, size u32, type 1 = file, the NUL-padded
// name, metadata) followed by the page numbers of its data pages; when those
// do not fit, further index pages (span 1, 2, ...) continue the list. Each
// data page holds a 5-byte header (object id, span, flags 0xFC) and up to
// page size - 5 bytes of content. Unused bytes are 0xFF; name padding and
// metadata are 0x00.
//
// Names are full paths ("/provisioning/claim_certificate.pem") and must be
// shorter than the object-name length the firmware is built with
// (CONFIG_SPIFFS_OBJ_NAME_LEN, 32 by default, NUL included), which is
// spiffsgen's --obj-name-len.
package spiffs
