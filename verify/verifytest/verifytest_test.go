package verifytest_test

import (
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

// The lines are archive lines: ParseLine reads back what made them.
func TestLineIsAnArchiveLine(t *testing.T) {
	for _, d := range verifytest.Deletions(1, "Orders", []string{"us-east-1", "eu-west-1"}, time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC), 2, 50) {
		l, err := archive.ParseLine(verifytest.Line(d))
		if err != nil {
			t.Fatalf("ParseLine(Line(%+v)): %v", d, err)
		}
		if l.Table != d.Table || l.Region != d.Region || l.EventID != d.EventID || !l.DeletedAt.Equal(d.At) || len(l.Keys) == 0 || len(l.Item) == 0 {
			t.Errorf("ParseLine(Line(%+v)) = %+v", d, l)
		}
	}
}
