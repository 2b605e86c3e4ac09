package main

import (
	"slices"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// parseLocations reads the values of a repeatable location flag (--from):
// each s3://bucket/prefix or a local path. Several are read as one
// archive (a global table's regions each have theirs).
func parseLocations(flag string, values []string) ([]archivefs.Location, error) {
	locs := make([]archivefs.Location, len(values))
	for i, v := range values {
		loc, err := archivefs.ParseLocation(v)
		if err != nil {
			return nil, usageErr("--%s: %v", flag, err)
		}
		locs[i] = loc
	}
	return locs, nil
}

// anyS3 reports whether a location is in S3 (and so needs AWS
// credentials).
func anyS3(locs []archivefs.Location) bool {
	return slices.ContainsFunc(locs, archivefs.Location.IsS3)
}
