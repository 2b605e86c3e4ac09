package archive

import (
	"testing"
)

// linesOf makes a batch whose lines have the given sizes.
func linesOf(sizes ...int) *batch {
	b := &batch{}
	for i, n := range sizes {
		start := len(b.out)
		for range n - 1 {
			b.out = append(b.out, 'x')
		}
		b.out = append(b.out, '\n')
		b.lines = append(b.lines, lineInfo{start: start, end: len(b.out), seq: []byte{byte('0' + i%10)}})
	}
	return b
}

func repeat(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

func TestCalls(t *testing.T) {
	tests := []struct {
		name      string
		sizes     []int
		batchSize int
		want      []int // records per call
	}{
		{"empty", nil, 400, nil},
		{"one less than batch size", repeat(399, 100), 400, []int{399}},
		{"exactly batch size", repeat(400, 100), 400, []int{400}},
		{"one more than batch size", repeat(401, 100), 400, []int{400, 1}},
		{"batch size 500", repeat(1001, 10), 500, []int{500, 500, 1}},
		{"batch size 1", repeat(3, 10), 1, []int{1, 1, 1}},
		{"full stream batch", repeat(10000, 50), 400, append(repeat(25, 400)[:0:0], repeat(25, 400)...)},
		// 4 MiB per call: ten records of 420,000 bytes make 4,200,000 bytes,
		// over 4,194,304, so a call takes nine.
		{"bytes limit", repeat(10, 420000), 400, []int{9, 1}},
		{"largest records", repeat(5, MaxRecordBytes), 500, []int{4, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := linesOf(tt.sizes...)
			recs := b.records(false, nil)
			cs := calls(recs, tt.batchSize, nil)
			var got []int
			for _, c := range cs {
				size := 0
				for _, r := range recs[c.first:c.last] {
					size += r.end - r.start
				}
				if size > MaxBytesPerCall {
					t.Errorf("call of %d bytes, want at most %d", size, MaxBytesPerCall)
				}
				got = append(got, c.last-c.first)
			}
			if !equalInts(got, tt.want) {
				t.Errorf("records per call = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecordsPacked(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int
		want  []int // lines per record
	}{
		{"small lines share a record", repeat(10, 1000), []int{10}},
		{"record limit", repeat(3, 400*1024), []int{2, 1}},
		{"a line at the limit stands alone", []int{100, MaxRecordBytes, 100}, []int{1, 1, 1}},
		{"at most 500 lines a record", repeat(2000, 100), []int{500, 500, 500, 500}},
		{"thousand 1 KiB lines", repeat(1001, 1024), []int{500, 500, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := linesOf(tt.sizes...)
			recs := b.records(true, nil)
			var got []int
			for _, r := range recs {
				if r.end-r.start > MaxRecordBytes {
					t.Errorf("record of %d bytes, want at most %d", r.end-r.start, MaxRecordBytes)
				}
				if r.start != b.lines[r.first].start || r.end != b.lines[r.last-1].end {
					t.Errorf("record %+v does not span its lines exactly", r)
				}
				got = append(got, r.last-r.first)
			}
			if !equalInts(got, tt.want) {
				t.Errorf("lines per record = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecordsSkipOversize(t *testing.T) {
	b := linesOf(10, 10)
	// An oversize record between the two: no bytes, still a line slot.
	b.lines = append(b.lines[:1], lineInfo{start: b.lines[1].start, end: b.lines[1].start}, b.lines[1])
	for _, pack := range []bool{false, true} {
		recs := b.records(pack, nil)
		if len(recs) != 2 || recs[0].first != 0 || recs[1].first != 2 {
			t.Errorf("records(pack=%v) = %+v, want lines 0 and 2 in separate records", pack, recs)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
