package firehoselocal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

func TestMemorySinkCopies(t *testing.T) {
	var sink firehoselocal.MemorySink
	in := [][]byte{[]byte("ab"), []byte("cd")}
	if err := sink.Deliver(context.Background(), stream, in); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	in[0][0] = 'X' // the caller reuses its buffer
	got := sink.Records()
	if string(got[0]) != "ab" || string(got[1]) != "cd" {
		t.Errorf("Records after the caller changed its buffer: got %q, want [ab cd]", got)
	}
	got[0][0] = 'Y'         // the reader changes what it got
	_ = append(got[0], 'Z') // and appends to it
	again := sink.Records()
	if string(again[0]) != "ab" || string(again[1]) != "cd" {
		t.Errorf("Records after a reader changed its copy: got %q, want [ab cd]", again)
	}
	if got, want := sink.Len(), 2; got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
	if got, want := sink.Bytes(), int64(4); got != want {
		t.Errorf("Bytes: got %d, want %d", got, want)
	}
	sink.Reset()
	if got := sink.Len(); got != 0 || len(sink.Records()) != 0 || sink.Bytes() != 0 {
		t.Errorf("after Reset: got Len %d, Bytes %d, want 0, 0", got, sink.Bytes())
	}
}

func TestMemorySinkConcurrent(t *testing.T) {
	var sink firehoselocal.MemorySink
	var wg sync.WaitGroup
	const writers, calls = 8, 100
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for c := 0; c < calls; c++ {
				_ = sink.Deliver(context.Background(), stream, [][]byte{[]byte(fmt.Sprintf("%d-%d-a", w, c)), []byte(fmt.Sprintf("%d-%d-b", w, c))})
				_ = sink.Len()
			}
		}(w)
	}
	wg.Wait()
	recs := sink.Records()
	if got, want := len(recs), writers*calls*2; got != want {
		t.Fatalf("Records: got %d, want %d", got, want)
	}
	// The records of one call stay together and in order.
	for i := 0; i < len(recs); i += 2 {
		a, b := string(recs[i]), string(recs[i+1])
		if a[:len(a)-1] != b[:len(b)-1] || a[len(a)-1] != 'a' || b[len(b)-1] != 'b' {
			t.Errorf("Records[%d:%d]: got %q, %q, want the a and b records of one call", i, i+2, a, b)
		}
	}
}
