package nvs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// Dump is a partition summarised for people and scripts. Blob contents are
// never included (only size and SHA-256), and values that look like PEM
// private keys are redacted wherever they are.
type Dump struct {
	Pages    []DumpPage   `json:"pages"`
	Entries  []DumpEntry  `json:"entries"`
	Erased   []DumpErased `json:"erased,omitempty"`
	Problems []string     `json:"problems,omitempty"`
}

// DumpPage is one page's state and entry counts.
type DumpPage struct {
	Number  int     `json:"number"`
	State   string  `json:"state"`
	Seq     *uint32 `json:"seq,omitempty"`     // pages in use only
	Version int     `json:"version,omitempty"` // 1 or 2
	Written int     `json:"written"`
	Erased  int     `json:"erased"`
	Free    int     `json:"free"`
	Problem string  `json:"problem,omitempty"`
}

// DumpEntry is one live key. Value is set for integers and strings that
// are not private keys; Size and SHA256 for strings and blobs.
type DumpEntry struct {
	Namespace string `json:"namespace"`
	Key       string `json:"key"`
	Type      string `json:"type"`
	Value     any    `json:"value,omitempty"`
	Size      *int   `json:"size,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	Redacted  bool   `json:"redacted,omitempty"`
	Text      string `json:"-"` // rendering for the table
}

// DumpErased is an erased entry whose header is still readable.
type DumpErased struct {
	Page  int    `json:"page"`
	Entry int    `json:"entry"`
	NS    uint8  `json:"ns_index"`
	Key   string `json:"key"`
	Type  string `json:"type"`
}

// MakeDump summarises p.
func MakeDump(p *Partition) Dump {
	d := Dump{Pages: []DumpPage{}, Entries: []DumpEntry{}}
	for _, pg := range p.Pages {
		dp := DumpPage{Number: pg.Number, State: pg.State.String(), Written: pg.Written, Erased: pg.Erased, Free: pg.Free, Problem: pg.Problem}
		if pg.InUse() {
			seq := pg.Seq
			dp.Seq = &seq
			dp.Version = map[byte]int{Version1: 1, Version2: 2}[pg.Version]
		}
		d.Pages = append(d.Pages, dp)
	}
	for _, e := range p.Entries() {
		de := DumpEntry{Namespace: e.Namespace, Key: e.Key, Type: e.Type.String(), Text: e.valueString()}
		switch {
		case e.Type.IsInt() && e.Type.signed():
			de.Value = e.Int64()
		case e.Type.IsInt():
			de.Value = e.Uint64()
		default:
			n := len(e.Data)
			sum := sha256.Sum256(e.Data)
			de.Size, de.SHA256 = &n, hex.EncodeToString(sum[:])
			if IsPrivateKey(e.Data) {
				de.Redacted = true
			} else if e.Type == String {
				de.Value = string(e.Data)
			}
		}
		d.Entries = append(d.Entries, de)
	}
	for _, it := range p.Items {
		if it.State != EntryWritten && it.Type != BlobData {
			d.Erased = append(d.Erased, DumpErased{Page: it.Page, Entry: it.Index, NS: it.NS, Key: it.Key, Type: it.Type.String()})
		}
	}
	for _, e := range p.Problems {
		d.Problems = append(d.Problems, e.Error())
	}
	return d
}

// WriteText prints the dump as tables.
func (d Dump) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PAGE\tSTATE\tSEQ\tVER\tWRITTEN\tERASED\tFREE\tNOTE")
	for _, p := range d.Pages {
		seq, ver := "-", "-"
		if p.Seq != nil {
			seq, ver = fmt.Sprint(*p.Seq), fmt.Sprint(p.Version)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", p.Number, p.State, seq, ver, p.Written, p.Erased, p.Free, p.Problem)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "NAMESPACE\tKEY\tTYPE\tVALUE")
	for _, e := range d.Entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Namespace, e.Key, e.Type, e.Text)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.Erased) > 0 {
		fmt.Fprintf(w, "\nerased entries: %d\n", len(d.Erased))
		for _, e := range d.Erased {
			fmt.Fprintf(w, "  page %d entry %d: ns %d key %q (%s)\n", e.Page, e.Entry, e.NS, e.Key, e.Type)
		}
	}
	if len(d.Problems) > 0 {
		fmt.Fprintf(w, "\nproblems: %d\n", len(d.Problems))
		for _, p := range d.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	return nil
}

// WriteJSON prints the dump as indented JSON.
func (d Dump) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
