package archivefs

import (
	"errors"
	"fmt"
	"strings"
)

// Location is where archive objects are: an S3 bucket and key prefix, or a
// local path (a file, or a directory read recursively).
type Location struct {
	Bucket string // set for S3 locations
	Prefix string // key prefix in Bucket; may be empty (the whole bucket)
	Path   string // set for local locations
}

// ErrBadLocation is returned by [ParseLocation] for a value it cannot use.
var ErrBadLocation = errors.New("bad location")

// ParseLocation reads "s3://bucket/prefix", "s3://bucket" or a local path.
// The prefix is used as it is: "s3://b/archive/table=Orders/" lists only that
// folder, "s3://b/archive/table=Ord" also lists "table=Orders2/".
func ParseLocation(s string) (Location, error) {
	if s == "" {
		return Location{}, fmt.Errorf("%w: empty: want s3://bucket/prefix or a local path", ErrBadLocation)
	}
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		if strings.Contains(s, "://") {
			return Location{}, fmt.Errorf("%w: %q: want s3://bucket/prefix or a local path", ErrBadLocation, s)
		}
		return Location{Path: s}, nil
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return Location{}, fmt.Errorf("%w: %q has no bucket name", ErrBadLocation, s)
	}
	return Location{Bucket: bucket, Prefix: prefix}, nil
}

// IsS3 reports whether the location is in S3.
func (l Location) IsS3() bool { return l.Bucket != "" }

// String returns the location as ParseLocation reads it.
func (l Location) String() string {
	if l.IsS3() {
		return "s3://" + l.Bucket + "/" + l.Prefix
	}
	return l.Path
}
