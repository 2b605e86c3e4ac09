package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// errEmpty marks a run that found nothing to work on: no archive object
// under the locations, or no line the filter selects. It exits 3, so that
// a script does not take an empty result for a complete one.
var errEmpty = errors.New("nothing found")

// noObjects is the error of a run that found no archive object.
func noObjects(locations []string) error {
	return fmt.Errorf("%w: no archive objects under %s: check the location (an S3 prefix such as s3://BUCKET/archive/, or a folder the objects were downloaded to)",
		errEmpty, strings.Join(locations, ", "))
}

// noMatch is the error of a run whose filter selected none of the lines
// read.
func noMatch(f archivefs.Filter, seen *archivefs.Seen) error {
	return fmt.Errorf("%w: %s", errEmpty, archivefs.NoMatch(f, seen))
}

// emptyResult returns the error of a run that read objects and lines
// but selected nothing, or nil.
func emptyResult(locations []string, objects, lines, selected int, f archivefs.Filter, seen *archivefs.Seen) error {
	switch {
	case objects == 0:
		return noObjects(locations)
	case selected == 0 && lines > 0 && seen != nil && len(seen.Tables()) > 0:
		return noMatch(f, seen)
	case selected == 0 && lines == 0:
		return fmt.Errorf("%w: the archive objects under %s hold no lines", errEmpty, strings.Join(locations, ", "))
	}
	return nil
}

// checkNotEmpty returns noObjects when the locations hold no object,
// reading only the first page of the listing. verify uses it: an empty
// archive would otherwise read as every deletion missing.
func checkNotEmpty(ctx context.Context, locs []archivefs.Location, client archivefs.S3API, names []string) error {
	src, err := archivefs.NewSources(locs, client)
	if err != nil {
		return err
	}
	for _, err := range src.Objects(ctx) {
		return err // nil: an object
	}
	return noObjects(names)
}
