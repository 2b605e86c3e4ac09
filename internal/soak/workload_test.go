package soak

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// TestGenerateWritesShardFiles: the generated stream is in its shard
// files, one record a line, and every record read back through its shard
// is the record its item describes.
func TestGenerateWritesShardFiles(t *testing.T) {
	dep, err := ReadDeployment(nil, nil)
	if err != nil {
		t.Fatalf("ReadDeployment: %v", err)
	}
	w := Workload{Seed: 7, Shards: 3, TTLItems: 600, Tables: []string{"Orders", "Sessions"}, LargeShare: 0.01}
	tests := []struct {
		name       string
		filters    []esm.FilterPattern
		checkEvery int
	}{
		{name: "every record, every TTL item checked", checkEvery: 1},
		{name: "filtered, every 7th checked", filters: dep.Filters, checkEvery: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "stream")
			s, err := generate(w, tt.filters, tt.checkEvery, dir)
			if err != nil {
				t.Fatalf("generate: %v", err)
			}
			defer func() { _ = s.close() }()

			records, checked, ttl, large := 0, 0, 0, 0
			for n := range int32(w.Shards) {
				sh := s.shardNumber(n)
				file, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("shard-%03d.jsonl", n)))
				if err != nil {
					t.Fatal(err)
				}
				// The records, one a line, are the whole file.
				var joined []byte
				for _, r := range sh.Records {
					data, err := sh.RecordData(r)
					if err != nil {
						t.Fatalf("shard %d: RecordData: %v", n, err)
					}
					joined = append(append(joined, data...), '\n')
				}
				if !bytes.Equal(joined, file) {
					t.Errorf("shard %d: records read back (%d bytes) are not the file (%d bytes)", n, len(joined), len(file))
				}
				for i, r := range sh.Records {
					records++
					data, _ := sh.RecordData(r)
					got, err := esm.RecordFromJSON(data)
					if err != nil || got.SequenceNumber != r.SequenceNumber || !got.Created.Equal(r.Created) {
						t.Fatalf("shard %d record %d: read back %s %v (%v), want %s %v", n, i, got.SequenceNumber, got.Created, err, r.SequenceNumber, r.Created)
					}
					var head struct {
						EventID      string          `json:"eventID"`
						EventName    string          `json:"eventName"`
						UserIdentity json.RawMessage `json:"userIdentity"`
					}
					_ = json.Unmarshal(data, &head)
					k, _ := parseEventKey(head.EventID)
					it := s.lookup(k)
					if it == nil || it.shard != n || it.index != int32(i) || it.created != r.Created.Unix() {
						t.Fatalf("shard %d record %d (%s): item %+v does not point back to it", n, i, head.EventID, it)
					}
					if isTTL := head.EventName == "REMOVE" && head.UserIdentity != nil; isTTL != (it.kind == streamgen.TTLRemove) {
						t.Errorf("shard %d record %d: kind %d, record is a TTL deletion: %v", n, i, it.kind, isTTL)
					}
					if it.kind == streamgen.TTLRemove {
						ttl++
						if r.Size > 60<<10 {
							large++
						}
					}
					if it.check {
						checked++
						keys, image, err := recordImages(sh, r)
						if err != nil || !bytes.Contains(data, keys) || !bytes.Contains(data, image) || len(image) < 100 {
							t.Errorf("shard %d record %d: recordImages: keys %.80s, image %.80s, %v", n, i, keys, image, err)
						}
					}
				}
			}
			if len(s.items) != records || len(s.index) != records || ttl != s.ttl || ttl != w.TTLItems {
				t.Errorf("%d items, %d in the index, %d TTL (counted %d) for %d records; want one each and %d TTL",
					len(s.items), len(s.index), s.ttl, ttl, records, w.TTLItems)
			}
			if tt.filters != nil && records != ttl {
				t.Errorf("%d records pass the filter, want only the %d TTL deletions", records, ttl)
			}
			if least := ttl / tt.checkEvery; checked < least || checked > least+large {
				t.Errorf("%d items marked for the content check, want %d to %d", checked, least, least+large)
			}
			if large == 0 {
				t.Errorf("no large TTL item generated: the case misses them")
			}

			if err := s.close(); err != nil {
				t.Errorf("close: %v", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("stream folder after close: %v, want it removed", err)
			}
		})
	}
}

// TestGenerateIsRepeatable: the same workload gives the same files.
func TestGenerateIsRepeatable(t *testing.T) {
	w := Workload{Seed: 9, Shards: 2, TTLItems: 200}
	var files [2][]byte
	for i := range files {
		dir := filepath.Join(t.TempDir(), "stream")
		s, err := generate(w, nil, 1, dir)
		if err != nil {
			t.Fatalf("generate: %v", err)
		}
		if files[i], err = os.ReadFile(filepath.Join(dir, "shard-001.jsonl")); err != nil {
			t.Fatal(err)
		}
		_ = s.close()
	}
	if len(files[0]) == 0 || !bytes.Equal(files[0], files[1]) {
		t.Errorf("shard 1 of two generations: %d and %d bytes, want the same, not empty", len(files[0]), len(files[1]))
	}
}

// TestItemHoldsNoPointer: the per-record tables hold no pointer, so the
// garbage collector has nothing to scan in them however long the stream.
func TestItemHoldsNoPointer(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[item](), reflect.TypeFor[eventKey](), reflect.TypeFor[stallSample]()} {
		if p := pointerIn(typ); p != "" {
			t.Errorf("%s holds a pointer: %s", typ, p)
		}
	}
}

// pointerIn names a field of typ that is or holds a pointer, "" if none.
func pointerIn(typ reflect.Type) string {
	switch typ.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return ""
	case reflect.Array:
		return pointerIn(typ.Elem())
	case reflect.Struct:
		var found []string
		for i := range typ.NumField() {
			if p := pointerIn(typ.Field(i).Type); p != "" {
				found = append(found, typ.Field(i).Name+" "+p)
			}
		}
		return strings.Join(found, ", ")
	}
	return typ.String()
}
