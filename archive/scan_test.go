package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestStrSpecial checks the word-at-a-time test of scanner.str against
// a byte-by-byte one: the lowest flagged byte of every word is the first
// byte a string scan must look at.
func TestStrSpecial(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }
	// Every byte value at every position, in a word of otherwise plain
	// bytes, and random words mixing all kinds.
	var words [][8]byte
	for pos := range 8 {
		for c := range 256 {
			w := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			w[pos] = byte(c)
			words = append(words, w)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := []byte{0, 0x1f, 0x20, '!', '"', '#', '[', '\\', ']', 0x7f, 0x80, 0xc3, 0xff, 'x'}
	for range 200_000 {
		var w [8]byte
		for i := range w {
			w[i] = pick[r.IntN(len(pick))]
		}
		words = append(words, w)
	}
	for _, w := range words {
		want := 8
		for i, c := range w {
			if special(c) {
				want = i
				break
			}
		}
		m := strSpecial(binary.LittleEndian.Uint64(w[:]))
		got := 8
		if m != 0 {
			got = 0
			for m&0x80 == 0 {
				m >>= 8
				got++
			}
		}
		if got != want {
			t.Fatalf("strSpecial(%q): first special byte %d, want %d", w, got, want)
		}
	}
}

// TestStrEveryPosition scans strings of every length up to past two
// words, with a quote, an escape, a control character or a multi-byte
// character at every position, at the end of the data and followed by
// more, and checks the result against encoding/json.
func TestStrEveryPosition(t *testing.T) {
	inserts := []string{`\"`, `\\`, `\u00e9`, `\n`, "\x01", "\x1f", "é", "\xff", `"`, `\`, `\x`, `\u12`}
	for n := range 20 {
		for pos := 0; pos <= n; pos++ {
			for _, ins := range inserts {
				body := make([]byte, 0, n+len(ins))
				for i := range n {
					if i == pos {
						body = append(body, ins...)
					}
					body = append(body, byte('a'+i%26))
				}
				if pos == n {
					body = append(body, ins...)
				}
				for _, tail := range []string{"", `,"x"`, "        "} {
					data := []byte(`"` + string(body) + `"` + tail)
					s := scanner{data: data}
					raw, flags, err := s.str()
					var want string
					dec := json.NewDecoder(bytes.NewReader(data))
					wantErr := dec.Decode(&want)
					if (err != nil) != (wantErr != nil) {
						t.Fatalf("str(%q): error %v, want error %v", data, err, wantErr)
					}
					if err != nil {
						continue
					}
					if end := int(dec.InputOffset()); s.pos != end || string(data[1:end-1]) != string(raw) {
						t.Fatalf("str(%q) = %q ending at %d, want ending at %d", data, raw, s.pos, end)
					}
					if flags&strNonASCII == 0 && string(decodeString(raw, flags)) != want {
						t.Fatalf("str(%q) decodes to %q, want %q", data, decodeString(raw, flags), want)
					}
					if ins == `"` || ins == `\` {
						continue // the string ended before the insert, or took the tail's quote
					}
					if esc := flags&strEscaped != 0; esc != (ins[0] == '\\') {
						t.Fatalf("str(%q): escaped flag %v", data, esc)
					}
					if nonASCII := flags&strNonASCII != 0; nonASCII != (ins[0] >= 0x80) {
						t.Fatalf("str(%q): non-ASCII flag %v", data, nonASCII)
					}
				}
			}
		}
	}
}

// TestMembersAnyLayout archives the sample events as Lambda writes them
// and written otherwise: members sorted by name, indented, and every
// member name with its first letter escaped. scanner.members matches the
// usual names in the usual order without scanning them; every other
// layout must still give the same lines and counts.
func TestMembersAnyLayout(t *testing.T) {
	escapeNames := regexp.MustCompile(`"([A-Za-z])([A-Za-z]*)"\s*:`)
	for _, name := range []string{"all-types.json", "mixed-batch.json", "ttl-batch.json", "no-old-image.json"} {
		orig, err := os.ReadFile(filepath.Join("..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, orig); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(orig))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		sorted, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		indented, err := json.MarshalIndent(v, " ", "\t")
		if err != nil {
			t.Fatal(err)
		}
		escaped := escapeNames.ReplaceAllFunc(compact.Bytes(), func(m []byte) []byte {
			sub := escapeNames.FindSubmatch(m)
			return fmt.Appendf(nil, `"\u%04x%s" :`, sub[1][0], sub[2])
		})
		want, wantCounts := archiveLines(t, compact.Bytes())
		if len(want) == 0 {
			t.Fatalf("%s: no lines", name)
		}
		for _, variant := range []struct {
			name    string
			payload []byte
		}{{"sorted", sorted}, {"indented", indented}, {"names escaped", escaped}} {
			got, counts := archiveLines(t, variant.payload)
			if !slices.Equal(got, want) || !reflect.DeepEqual(counts, wantCounts) {
				t.Errorf("%s %s: lines\n%s\ncounts %+v\nwant\n%s\ncounts %+v", name, variant.name, strings.Join(got, "\n"), counts, strings.Join(want, "\n"), wantCounts)
			}
		}
	}
}

// archiveLines archives payload and returns the lines, sorted, and the
// counts.
func archiveLines(t *testing.T, payload []byte) ([]string, Counts) {
	t.Helper()
	fake, taken := collectingFirehose()
	a, err := New(fake, Config{StreamName: "s", BatchSize: 400, Format: FormatJSON, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Archive(context.Background(), payload)
	if err != nil {
		t.Fatalf("Archive(%.100q): %v", payload, err)
	}
	var lines []string
	for _, r := range taken() {
		lines = append(lines, string(r))
	}
	slices.Sort(lines)
	c := res.Counts
	c.Duration = 0
	return lines, c
}
