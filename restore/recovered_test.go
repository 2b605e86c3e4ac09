package restore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// recoveredLine is a line backfill writes, through archive's own writer.
func recoveredLine(t *testing.T, at time.Time, status string) []byte {
	t.Helper()
	w := archive.NewLineWriter(archive.FormatJSON)
	b, err := w.Append(nil, archive.Recovered{Table: "Orders", Region: "us-east-1", EventID: "0123456789abcdef0123456789abcdef", DeletedAt: at, From: "arn:aws:dynamodb:us-east-1:1:table/Orders/export/x"},
		[]byte(`{"pk":{"S":"a"}}`), []byte(`{"pk":{"S":"a"},"status":{"S":"`+status+`"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func streamLine(at time.Time, status string) []byte {
	return []byte(`{"table":"Orders","region":"eu-west-1","event_id":"ffffffffffffffffffffffffffffffff","sequence_number":"4421584500000000017450439092","deleted_at":"` +
		at.Format(time.RFC3339Nano) + `","keys":{"pk":"a"},"item":{"pk":"a","status":"` + status + `"}}` + "\n")
}

// A recovered version (sequence_number 0, deleted_at the export's write
// time) never wins over a stream-archived version of the same key that
// is newer or deleted at the same time; it wins over an older one (an
// earlier deletion of the key), as any newer version does.
func TestRecoveredVersion(t *testing.T) {
	at := time.Date(2025, 11, 21, 7, 20, 0, 0, time.UTC)
	tests := []struct {
		name       string
		streamAt   time.Time
		recoveredW bool // the recovered version is written
	}{
		{"stream at the same time", at, false},
		{"stream a microsecond later", at.Add(time.Microsecond), false},
		// The stream's time is whole seconds, the export's microseconds:
		// the same deletion archived both ways is the stream's.
		{"stream the same second, earlier", at.Add(-300 * time.Millisecond), false},
		{"stream a day later", at.AddDate(0, 0, 1), false},
		{"stream a day earlier", at.AddDate(0, 0, -1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl, err := archive.ParseLine(recoveredLine(t, at, "recovered"))
			if err != nil {
				t.Fatal(err)
			}
			sl, err := archive.ParseLine(streamLine(tt.streamAt, "stream"))
			if err != nil {
				t.Fatal(err)
			}
			if got := lineVersion(&rl).compare(lineVersion(&sl)) > 0; got != tt.recoveredW {
				t.Errorf("recovered newer than stream: %v, want %v", got, tt.recoveredW)
			}
			// The same through a dry run, in both orders of the objects.
			for _, order := range [][2][]byte{{recoveredLine(t, at, "recovered"), streamLine(tt.streamAt, "stream")}, {streamLine(tt.streamAt, "stream"), recoveredLine(t, at, "recovered")}} {
				dir := t.TempDir()
				for i, l := range order {
					if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".json"), l, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				rep, err := Run(context.Background(), Options{Source: src, Table: "Orders", DryRun: true, Out: &out})
				want := map[bool]string{true: "recovered", false: "stream"}[tt.recoveredW]
				if err != nil || rep.Items != 1 || rep.Invalid != 0 || !strings.Contains(out.String(), `"`+want+`"`) {
					t.Errorf("dry run: %d items, %d invalid, %v, printed %s; want the %s version", rep.Items, rep.Invalid, err, out.String(), want)
				}
			}
		})
	}
}
