package soak

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// Workload shapes the generated stream: how many shards, how many TTL
// deletions, what else is mixed in and how large the items are.
type Workload struct {
	Seed uint64
	// Tables are the source tables; shard i belongs to Tables[i%len(Tables)]
	// (one stream, and one event source mapping, per table). Default
	// ["Orders"].
	Tables []string
	// Shards is the number of stream shards, over all tables (default 2).
	Shards int
	// TTLItems is the number of TTL deletions to generate, spread evenly over
	// the shards (default 1000).
	TTLItems int
	// TTLShare is the share of TTL deletions among the records (default
	// 0.7); the rest are inserts, modifies and deletes by users, in equal
	// parts.
	TTLShare float64
	// ItemBytes to MaxItemBytes is the size range of ordinary items (DynamoDB
	// JSON), chosen uniformly (default 300 to 2,000).
	ItemBytes, MaxItemBytes int
	// LargeShare is the share of records whose item is large, LargeBytes to
	// MaxLargeBytes (default 0.002 of items between 64 KB and 400 KB, the
	// largest item DynamoDB stores).
	LargeShare                float64
	LargeBytes, MaxLargeBytes int
	// Days spreads the shards' deletion times over this many days, so that
	// the archive is partitioned by several dates (default 2).
	Days int
}

func (w Workload) withDefaults() Workload {
	if len(w.Tables) == 0 {
		w.Tables = []string{"Orders"}
	}
	if w.Shards == 0 {
		w.Shards = 2
	}
	if w.TTLItems == 0 {
		w.TTLItems = 1000
	}
	if w.TTLShare == 0 {
		w.TTLShare = 0.7
	}
	if w.ItemBytes == 0 {
		w.ItemBytes = 300
	}
	if w.MaxItemBytes == 0 {
		w.MaxItemBytes = 2000
	}
	if w.LargeShare == 0 {
		w.LargeShare = 0.002
	}
	if w.LargeBytes == 0 {
		w.LargeBytes = 64 << 10
	}
	if w.MaxLargeBytes == 0 {
		w.MaxLargeBytes = MaxItemBytes
	}
	if w.Days == 0 {
		w.Days = 2
	}
	return w
}

// MaxItemBytes is the largest item DynamoDB stores (400 KB, AWS-FACTS.md).
const MaxItemBytes = 400 * 1000

// startTime is the first deletion time of the generated streams
// (2025-11-23T00:00:00Z, streamgen's default).
const startTime = 1763856000

// Record kinds as the soak tracks them.
type kind = streamgen.Kind

// eventKey is a stream record's eventID: the key archive lines carry for
// de-duplication. Generated ids are 32 hex digits.
type eventKey [16]byte

func parseEventKey(s string) (eventKey, bool) {
	var k eventKey
	if len(s) != 32 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(s))
	return k, err == nil
}

// item is what the soak remembers of one generated record. It holds no
// pointer, so that the garbage collector has nothing to scan in a table of
// millions: the record's JSON, sequence number, keys and image are read
// back from its shard (stream.record) when they are needed.
type item struct {
	kind kind
	// check marks the records whose archived keys and item are compared in
	// full (see Options.CheckContentEvery).
	check   bool
	table   int32 // index in Workload.Tables
	shard   int32
	index   int32 // position in its shard
	created int64

	archived  int32 // lines found in the archive
	inFailure int32 // times found in an on-failure payload
}

// stream is a generated workload: the shards, and what each record is.
//
// The records' JSON is not held in memory: each shard's records are
// written, one line each, to a file under the run's folder as they are
// generated, and the shard (an esm.Shard with that file as its Source)
// keeps only where each record is. A long soak's stream is gigabytes;
// held in the Go heap it made the harness's own garbage collection stall
// it for seconds, next to the function processes it times.
type stream struct {
	w      Workload
	tables []tableStream
	// items are the generated records; index finds one by its eventID.
	items []item
	index map[eventKey]int32
	// dir holds files, the shards' record files by shard number.
	dir   string
	files []*os.File
	ttl   int
	large int
	bytes int64
}

// lookup returns the generated record with the eventID, nil if there is
// none.
func (s *stream) lookup(k eventKey) *item {
	i, ok := s.index[k]
	if !ok {
		return nil
	}
	return &s.items[i]
}

// record returns the stream record of it, and its shard.
func (s *stream) record(it *item) (esm.Record, esm.Shard) {
	sh := s.shardNumber(it.shard)
	return sh.Records[it.index], sh
}

// close closes the shards' files and removes them.
func (s *stream) close() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.Close(), os.Remove(f.Name()))
	}
	s.files = nil
	if s.dir != "" {
		_ = os.Remove(s.dir) // only if nothing else is in it
	}
	return errors.Join(errs...)
}

// tableStream is the shards of one table's stream.
type tableStream struct {
	name   string
	arn    string
	shards []esm.Shard
	ids    []int // shard numbers (over all tables), parallel to shards
}

// streamARN is the ARN streamgen writes for a table.
func streamARN(table string) string {
	return "arn:aws:dynamodb:us-east-1:123456789012:table/" + table + "/stream/2025-01-01T00:00:00.000"
}

// shardID names shard i as DynamoDB names shards.
func shardID(i int) string {
	return fmt.Sprintf("shardId-%020d-%08x", startTime*1000+int64(i), 0x5a0c0000+i)
}

// generate builds the shards, writing their records to files in dir.
// Shard i's sequence numbers start at 10^19 + i*10^16, so that they never
// meet another shard's; its deletion times start i*Days/Shards days after
// startTime. Large items are mixed in one at a time: a record from a second
// generator that continues the sequence numbers and times where the first
// left off. checkEvery marks every n-th TTL record (and every large one)
// for the content check; 0 marks none. The caller closes the stream.
func generate(w Workload, filters []esm.FilterPattern, checkEvery int, dir string) (*stream, error) {
	w = w.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("stream folder: %w", err)
	}
	// About TTLItems/TTLShare records, before the filter.
	records := int(float64(w.TTLItems)/w.TTLShare*1.05) + 16
	s := &stream{w: w, dir: dir, items: make([]item, 0, records), index: make(map[eventKey]int32, records)}
	for _, name := range w.Tables {
		s.tables = append(s.tables, tableStream{name: name, arn: streamARN(name)})
	}
	perShard := make([]int, w.Shards)
	for i := range perShard {
		perShard[i] = w.TTLItems / w.Shards
		if i < w.TTLItems%w.Shards {
			perShard[i]++
		}
	}
	for i := range w.Shards {
		ti := i % len(w.Tables)
		sh, err := s.shard(i, ti, perShard[i], filters, checkEvery)
		if err != nil {
			_ = s.close()
			return nil, fmt.Errorf("shard %d: %w", i, err)
		}
		s.tables[ti].shards = append(s.tables[ti].shards, sh)
		s.tables[ti].ids = append(s.tables[ti].ids, i)
	}
	return s, nil
}

func (s *stream) shard(i, ti, ttlWanted int, filters []esm.FilterPattern, checkEvery int) (esm.Shard, error) {
	w := s.w
	f, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("shard-%03d.jsonl", i)))
	if err != nil {
		return esm.Shard{}, err
	}
	s.files = append(s.files, f)
	out := bufio.NewWriterSize(f, 1<<20)
	var offset int64
	sh := esm.Shard{ID: shardID(i), Source: f}
	rng := rand.New(rand.NewPCG(w.Seed, uint64(i)+1))
	seq := uint64(1e19) + uint64(i)*uint64(1e16)
	created := int64(startTime) + int64(i)*int64(w.Days)*86400/int64(w.Shards)
	run := 0
	newGen := func(large bool) *streamgen.Generator {
		run++
		o := streamgen.Options{
			Seed:     w.Seed<<24 ^ uint64(i)<<16 ^ uint64(run),
			Table:    w.Tables[ti],
			TTLShare: w.TTLShare,
			FirstSeq: seq,
			Start:    created,
		}
		if large {
			o.ItemBytes, o.MaxItemBytes = w.LargeBytes, w.MaxLargeBytes
		} else {
			o.ItemBytes, o.MaxItemBytes = w.ItemBytes, w.MaxItemBytes
		}
		return streamgen.New(o)
	}
	small := newGen(false)
	ttl := 0
	for ttl < ttlWanted {
		g, large := small, false
		if w.LargeShare > 0 && rng.Float64() < w.LargeShare {
			g, large = newGen(true), true
		}
		r := g.Next()
		n, err := strconv.ParseUint(r.Seq[1:], 10, 64)
		if err != nil {
			return esm.Shard{}, fmt.Errorf("generated sequence number %s: %w", r.Seq, err)
		}
		seq, created = n, r.Created
		if large {
			// Go on after the large record with a fresh generator.
			small = newGen(false)
			s.large++
		}
		if len(filters) > 0 {
			ok, err := matchAny(filters, r.JSON)
			if err != nil {
				return esm.Shard{}, fmt.Errorf("filter record %s: %w", r.Seq, err)
			}
			if !ok {
				continue // dropped by the mapping's FilterCriteria
			}
		}
		key, ok := parseEventKey(r.EventID)
		if !ok {
			return esm.Shard{}, fmt.Errorf("generated eventID %q is not 32 hex digits", r.EventID)
		}
		if _, dup := s.index[key]; dup {
			return esm.Shard{}, fmt.Errorf("generated eventID %s twice", r.EventID)
		}
		if len(s.items) == math.MaxInt32 || len(sh.Records) == math.MaxInt32 {
			return esm.Shard{}, fmt.Errorf("more than %d records", math.MaxInt32)
		}
		it := item{kind: r.Kind, table: int32(ti), shard: int32(i), index: int32(len(sh.Records)), created: r.Created}
		if r.Kind == streamgen.TTLRemove {
			ttl++
			// A record without an old image (KEYS_ONLY) has no item to
			// compare.
			it.check = checkEvery > 0 && (ttl%checkEvery == 0 || large) && r.OldImage != nil
		}
		s.index[key] = int32(len(s.items))
		s.items = append(s.items, it)
		if _, err := out.Write(r.JSON); err != nil {
			return esm.Shard{}, fmt.Errorf("write %s: %w", f.Name(), err)
		}
		if err := out.WriteByte('\n'); err != nil {
			return esm.Shard{}, fmt.Errorf("write %s: %w", f.Name(), err)
		}
		sh.Records = append(sh.Records, esm.Record{
			Offset:         offset,
			Size:           len(r.JSON),
			SequenceNumber: r.Seq,
			Created:        time.Unix(r.Created, 0).UTC(),
		})
		offset += int64(len(r.JSON)) + 1
		s.bytes += int64(len(r.JSON))
	}
	if err := out.Flush(); err != nil {
		return esm.Shard{}, fmt.Errorf("write %s: %w", f.Name(), err)
	}
	shareSequenceNumbers(sh.Records)
	s.ttl += ttl
	return sh, nil
}

// shareSequenceNumbers makes the records' sequence numbers substrings of
// one string: one object for the garbage collector to mark instead of one
// per record.
func shareSequenceNumbers(records []esm.Record) {
	var b strings.Builder
	for _, r := range records {
		b.WriteString(r.SequenceNumber)
	}
	all, pos := b.String(), 0
	for i := range records {
		n := len(records[i].SequenceNumber)
		records[i].SequenceNumber = all[pos : pos+n]
		pos += n
	}
}

// matchAny applies a mapping's FilterCriteria to a record as Lambda does:
// the record passes when one of the patterns matches.
func matchAny(patterns []esm.FilterPattern, record []byte) (bool, error) {
	for _, p := range patterns {
		ok, err := p.MatchJSON(record)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
