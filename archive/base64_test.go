package archive

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// checkBase64 fails t if appendBase64(dst, src) is not what the standard
// library appends.
func checkBase64(t testing.TB, dst, src []byte) {
	t.Helper()
	want := base64.StdEncoding.AppendEncode(bytes.Clone(dst), src)
	if got := appendBase64(dst, src); !bytes.Equal(got, want) {
		t.Fatalf("appendBase64(%q, %x) = %q, want %q", dst, src, got, want)
	}
}

// TestAppendBase64Lengths encodes random bytes of every length from 0 to
// 300: each number of steps, with each tail.
func TestAppendBase64Lengths(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 301 {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		checkBase64(t, nil, src)
	}
}

// TestAppendBase64Bytes puts every byte value at every position of a
// short input: each position of a step, and the last bytes with padding.
func TestAppendBase64Bytes(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for i := range n {
			for b := range 256 {
				src := bytes.Repeat([]byte{0x5a}, n)
				src[i] = byte(b)
				checkBase64(t, nil, src)
			}
		}
	}
}

// TestAppendBase64Pairs encodes every 12-bit value, so every entry of
// base64Pairs is checked.
func TestAppendBase64Pairs(t *testing.T) {
	var src []byte
	for v := 0; v < 4096; v += 2 {
		src = append(src, byte(v>>4), byte(v<<4|(v+1)>>8), byte(v+1))
	}
	checkBase64(t, nil, src)
}

// TestAppendBase64Dst appends to a prefix, with and without room after
// it, as request bodies and lines do.
func TestAppendBase64Dst(t *testing.T) {
	src := []byte("the data of one record, 37 bytes long")
	for _, n := range []int{0, 1, 2, 3, 8, 13, 14, 15, 37} {
		// no spare capacity: appendBase64 grows dst
		checkBase64(t, []byte(`{"Data":"`), src[:n])
		// the encoding ends at len(dst)+EncodedLen, whatever the capacity
		dst := append(make([]byte, 0, 5+base64.StdEncoding.EncodedLen(n)), "pre:-"...)
		checkBase64(t, dst, src[:n])
		// spare capacity: the bytes after the encoding are left alone
		dst = bytes.Repeat([]byte{'#'}, 100)
		copy(dst, "pre:")
		got := appendBase64(dst[:5], src[:n])
		if e := len(got); !bytes.Equal(dst[e:], bytes.Repeat([]byte{'#'}, 100-e)) {
			t.Fatalf("appendBase64 of %d bytes wrote past the encoding: %q", n, dst)
		}
		checkBase64(t, dst[:5], src[:n])
	}
}

// FuzzAppendBase64 compares appendBase64 with the standard library.
func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte("prefix"), []byte{})
	f.Add([]byte{}, []byte("any carnal pleasure."))
	f.Fuzz(func(t *testing.T, dst, src []byte) {
		// The fuzzer may put src in the spare capacity of dst, where the
		// encoding would overwrite it (as the standard library's would).
		checkBase64(t, dst, bytes.Clone(src))
	})
}

// BenchmarkAppendBase64 encodes 330 KB of random data, about the record
// data of one PutRecordBatch call, with the standard library and with
// appendBase64.
func BenchmarkAppendBase64(b *testing.B) {
	src := make([]byte, 330_000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	for _, bc := range []struct {
		name string
		f    func(dst, src []byte) []byte
	}{
		{"stdlib", base64.StdEncoding.AppendEncode},
		{"archive", appendBase64},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			dst := make([]byte, 0, base64.StdEncoding.EncodedLen(len(src)))
			for b.Loop() {
				dst = bc.f(dst[:0], src)
			}
		})
	}
}
