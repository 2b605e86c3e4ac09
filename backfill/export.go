package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// The export format (DynamoDB developer guide, "table export output
// format"; AWS-FACTS.md, "Table exports").
const (
	summaryFile       = "manifest-summary.json"
	filesFile         = "manifest-files.json"
	exportDirName     = "AWSDynamoDB"
	incrementalExport = "INCREMENTAL_EXPORT"
	fullExport        = "FULL_EXPORT"
	newAndOldImages   = "NEW_AND_OLD_IMAGES"
	newImageView      = "NEW_IMAGE"
	dynamoDBJSON      = "DYNAMODB_JSON"
)

// summary is manifest-summary.json.
type summary struct {
	Version            string     `json:"version"`
	ExportArn          string     `json:"exportArn"`
	StartTime          *time.Time `json:"startTime"`
	EndTime            *time.Time `json:"endTime"`
	TableArn           string     `json:"tableArn"`
	TableID            string     `json:"tableId"`
	ExportTime         *time.Time `json:"exportTime"`
	ExportFromTime     *time.Time `json:"exportFromTime"`
	ExportToTime       *time.Time `json:"exportToTime"`
	S3Bucket           string     `json:"s3Bucket"`
	S3Prefix           string     `json:"s3Prefix"`
	S3SseAlgorithm     string     `json:"s3SseAlgorithm"`
	ManifestFilesS3Key string     `json:"manifestFilesS3Key"`
	BilledSizeBytes    *int64     `json:"billedSizeBytes"`
	ItemCount          *int64     `json:"itemCount"`
	OutputFormat       string     `json:"outputFormat"`
	OutputView         string     `json:"outputView"`
	ExportType         string     `json:"exportType"`
}

// manifestEntry is one line of manifest-files.json.
type manifestEntry struct {
	ItemCount     *int64 `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// export is one export read from its manifests, checked, its data files
// found.
type export struct {
	loc      archivefs.Location // the export's folder
	arn, id  string
	region   string
	table    string
	from, to time.Time
	items    int64 // the summary's itemCount
	files    []dataFile
}

// dataFile is one data file of an export.
type dataFile struct {
	name  string // as named in messages: s3://bucket/key or the path
	items int64  // manifest-files.json's itemCount
	src   *archivefs.Source
	obj   archivefs.Object
	found bool
}

// readExport reads the manifests of the export in folder loc and checks
// that backfill can use it: an incremental export, with old images, of
// table. A refusal wraps ErrRefused; a data file that is not there is
// left with found false (see missing).
func readExport(ctx context.Context, loc archivefs.Location, client archivefs.S3API, table string) (*export, error) {
	if loc.IsS3() && loc.Prefix != "" && !strings.HasSuffix(loc.Prefix, "/") {
		loc.Prefix += "/"
	}
	var s summary
	data, err := readWhole(ctx, join(loc, summaryFile), client)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %s: not an export's manifest summary: %v", ErrRefused, join(loc, summaryFile), err)
	}
	name := loc.String()
	switch {
	case s.ExportType == fullExport:
		return nil, fmt.Errorf("%w: %s is a full export (%s): it holds the table's items, not its deletions; backfill needs incremental exports (ttl-archiver export-request)", ErrRefused, name, s.ExportArn)
	case s.ExportType != incrementalExport:
		return nil, fmt.Errorf("%w: %s has exportType %q, want %s", ErrRefused, name, s.ExportType, incrementalExport)
	case s.OutputView == newImageView:
		return nil, fmt.Errorf("%w: %s is a %s export: its deleted items have no old image, so there is nothing to archive; request one with %s", ErrRefused, name, newImageView, newAndOldImages)
	case s.OutputView != newAndOldImages:
		return nil, fmt.Errorf("%w: %s has outputView %q, want %s", ErrRefused, name, s.OutputView, newAndOldImages)
	case s.OutputFormat != "" && s.OutputFormat != dynamoDBJSON:
		return nil, fmt.Errorf("%w: %s is in %s, want %s", ErrRefused, name, s.OutputFormat, dynamoDBJSON)
	case s.ExportFromTime == nil || s.ExportToTime == nil || !s.ExportFromTime.Before(*s.ExportToTime):
		return nil, fmt.Errorf("%w: %s: the manifest summary has no window (exportFromTime before exportToTime)", ErrRefused, name)
	case s.ItemCount == nil:
		return nil, fmt.Errorf("%w: %s: the manifest summary has no itemCount", ErrRefused, name)
	}
	t, region, ok := parseTableARN(s.TableArn)
	if !ok {
		return nil, fmt.Errorf("%w: %s: tableArn %q is not a DynamoDB table ARN", ErrRefused, name, s.TableArn)
	}
	if t != table {
		return nil, fmt.Errorf("%w: %s is an export of table %s, not of --source-table %s", ErrRefused, name, t, table)
	}
	if _, r, ok := parseTableARN(s.ExportArn); ok {
		region = r
	}
	e := &export{loc: loc, arn: s.ExportArn, id: exportID(s.ExportArn), region: region, table: t,
		from: s.ExportFromTime.UTC(), to: s.ExportToTime.UTC(), items: *s.ItemCount}
	data, err = readWhole(ctx, join(loc, filesFile), client)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	for i := 1; ; i++ {
		var m manifestEntry
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%w: %s entry %d: %v", ErrRefused, join(loc, filesFile), i, err)
		}
		if m.DataFileS3Key == "" || m.ItemCount == nil {
			return nil, fmt.Errorf("%w: %s entry %d has no dataFileS3Key or itemCount", ErrRefused, join(loc, filesFile), i)
		}
		f, err := findDataFile(ctx, loc, s.S3Bucket, m.DataFileS3Key, client)
		if err != nil {
			return nil, err
		}
		f.items = *m.ItemCount
		e.files = append(e.files, f)
	}
	return e, nil
}

// missing names the export's data files that are not there.
func (e *export) missing() []string {
	var out []string
	for _, f := range e.files {
		if !f.found {
			out = append(out, f.name)
		}
	}
	return out
}

// join returns the location of name in folder loc.
func join(loc archivefs.Location, name string) archivefs.Location {
	if loc.IsS3() {
		return archivefs.Location{Bucket: loc.Bucket, Prefix: loc.Prefix + name}
	}
	return archivefs.Location{Path: filepath.Join(loc.Path, name)}
}

// dataLocation is where a manifest's dataFileS3Key is: its part after
// "AWSDynamoDB/" under the export folder's parent (the AWSDynamoDB
// folder), whether the export is where DynamoDB wrote it or a copy with
// the same layout (in another bucket, or local). A key without that
// folder is taken as it is, in the summary's s3Bucket.
func dataLocation(folder archivefs.Location, bucket, key string) archivefs.Location {
	rest, found := strings.CutPrefix(key, exportDirName+"/")
	if i := strings.LastIndex(key, "/"+exportDirName+"/"); i >= 0 {
		rest, found = key[i+len(exportDirName)+2:], true
	}
	if folder.IsS3() {
		if !found {
			if bucket == "" {
				bucket = folder.Bucket
			}
			return archivefs.Location{Bucket: bucket, Prefix: key}
		}
		parent := path.Dir(strings.TrimSuffix(folder.Prefix, "/"))
		if parent == "." {
			parent = ""
		} else {
			parent += "/"
		}
		return archivefs.Location{Bucket: folder.Bucket, Prefix: parent + rest}
	}
	if !found {
		rest = path.Base(key)
	}
	return archivefs.Location{Path: filepath.Join(filepath.Dir(filepath.Clean(folder.Path)), filepath.FromSlash(rest))}
}

// findDataFile finds the object of one data file.
func findDataFile(ctx context.Context, folder archivefs.Location, bucket, key string, client archivefs.S3API) (dataFile, error) {
	loc := dataLocation(folder, bucket, key)
	f := dataFile{name: loc.String()}
	if !loc.IsS3() {
		if _, err := os.Stat(loc.Path); errors.Is(err, fs.ErrNotExist) {
			return f, nil
		}
	}
	src, err := archivefs.NewSource(loc, client)
	if err != nil {
		return f, err
	}
	for obj, err := range src.Objects(ctx) {
		if err != nil {
			return f, fmt.Errorf("find data file %s: %w", f.name, err)
		}
		if !loc.IsS3() || obj.Key == loc.Prefix {
			f.src, f.obj, f.found = src, obj, true
			break
		}
	}
	return f, nil
}

// readWhole reads one object (gunzipped if it is gzipped). A missing one
// is a refusal: the location is not an export folder.
func readWhole(ctx context.Context, loc archivefs.Location, client archivefs.S3API) ([]byte, error) {
	if !loc.IsS3() {
		if _, err := os.Stat(loc.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s is not there: give --export the export's folder, PREFIX/AWSDynamoDB/EXPORT-ID/", ErrRefused, loc)
		}
	}
	src, err := archivefs.NewSource(loc, client)
	if err != nil {
		return nil, err
	}
	for obj, err := range src.Objects(ctx) {
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", loc, err)
		}
		if loc.IsS3() && obj.Key != loc.Prefix {
			continue
		}
		rc, err := src.Open(ctx, obj)
		if err != nil {
			return nil, err
		}
		defer func() { _ = rc.Close() }()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", loc, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: %s is not there: give --export the export's folder, PREFIX/AWSDynamoDB/EXPORT-ID/", ErrRefused, loc)
}

// parseTableARN returns the table and region of a table ARN, or of an
// ARN below one (an export's): arn:aws:dynamodb:REGION:ACCOUNT:table/NAME[/...].
func parseTableARN(arn string) (table, region string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "dynamodb" || parts[3] == "" {
		return "", "", false
	}
	rest, found := strings.CutPrefix(parts[5], "table/")
	if !found {
		return "", "", false
	}
	name, _, _ := strings.Cut(rest, "/")
	if name == "" {
		return "", "", false
	}
	return name, parts[3], true
}

// exportID is the last part of an export's ARN, as it names the
// export's folder; when it holds anything but letters, digits and
// dashes, those are replaced, so that it can be part of an object name.
func exportID(arn string) string {
	id := arn[strings.LastIndex(arn, "/")+1:]
	b := []byte(id)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
		default:
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}
