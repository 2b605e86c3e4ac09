package archivefs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the part of the S3 client a Source uses, with the SDK's own
// signatures, so that *s3.Client satisfies it and tests can pass a fake.
type S3API interface {
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// MaxLineBytes is the longest line a Source reads. An archive line is at
// most one Firehose record (1,000 KiB, see AWS-FACTS.md); the margin leaves
// room for lines written by other tools.
const MaxLineBytes = 1536 * 1024

// ErrLineTooLong is the error of a line longer than MaxLineBytes. The
// line is skipped and reading goes on with the next one.
var ErrLineTooLong = errors.New("line longer than 1.5 MiB")

// Object is one archive object: an S3 object or a local file.
type Object struct {
	// Key is the S3 key, or the file's path (the location's path joined
	// with the path below it). In a Source of several locations, an S3
	// object's Key is its whole name, s3://bucket/key, so that objects of
	// two buckets with the same keys stay apart.
	Key  string
	Size int64
	loc  int    // index of the object's location in its Source
	skip string // why a local entry can't be read (Open says so)
}

// ErrNotReadable is wrapped by Open's error for a local entry that is
// not read: a symbolic link to a folder, a device, a socket. It is never
// passed over in silence: ObjectLines yields it like any unreadable
// object, and the commands exit 3.
var ErrNotReadable = errors.New("not read")

// Line is one line of an object.
type Line struct {
	Object string // the object's Key
	Number int    // 1 for the first line of the object
	// Data is the line without its "\n" (nor a "\r" before it). It is only
	// valid until the iteration goes on: copy it to keep it.
	Data []byte
	// FirehoseError is set on a line that Firehose could not deliver and
	// wrote to its error prefix instead: the error code it gave. Data is
	// then one of the lines the record carried (see ObjectLines).
	FirehoseError string
}

// LineError is an error about one line or one object, with where it is.
type LineError struct {
	Object string
	Line   int // 0 when the error is about the object as a whole
	Err    error
}

func (e *LineError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.Object, e.Err)
	}
	return fmt.Sprintf("%s line %d: %v", e.Object, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Source reads the archive objects at one Location or several, read as
// one archive: a global table's regions each archive into a bucket of
// their own.
type Source struct {
	locs   []Location
	client S3API
}

// NewSource returns a Source for loc. client is needed for S3 locations
// only; it may be nil for local ones.
func NewSource(loc Location, client S3API) (*Source, error) {
	return NewSources([]Location{loc}, client)
}

// NewSources returns a Source that reads every location in turn, as one
// archive.
func NewSources(locs []Location, client S3API) (*Source, error) {
	if len(locs) == 0 {
		return nil, fmt.Errorf("%w: no location", ErrBadLocation)
	}
	for _, loc := range locs {
		if loc.IsS3() && client == nil {
			return nil, fmt.Errorf("read %s: no S3 client", loc)
		}
		if !loc.IsS3() && loc.Path == "" {
			return nil, fmt.Errorf("%w: empty path", ErrBadLocation)
		}
	}
	return &Source{locs: slices.Clone(locs), client: client}, nil
}

// Locations returns where the source reads.
func (s *Source) Locations() []Location { return slices.Clone(s.locs) }

// String names the source's locations, comma-separated.
func (s *Source) String() string {
	names := make([]string, len(s.locs))
	for i, l := range s.locs {
		names[i] = l.String()
	}
	return strings.Join(names, ",")
}

// Objects yields the source's objects in lexical order of their keys (for
// S3, the order ListObjectsV2 returns; locally, the order of
// filepath.WalkDir). Keys ending in "/" (folder markers) and a local S3's
// metadata folder (DIR/metadata beside DIR/buckets) are left out. Every
// other local entry is yielded, names starting with "." included, and a
// symbolic link to a file is read as the file; an entry that can't be
// read (a link to a folder, a device) is yielded too, and opening it
// fails with ErrNotReadable, so that no reader passes it over in silence.
// An error ends the sequence.
//
// A Source of several locations yields each location's objects in turn,
// in the order the locations were given.
func (s *Source) Objects(ctx context.Context) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		for i, loc := range s.locs {
			objs := s.localObjects(ctx, i, loc)
			if loc.IsS3() {
				objs = s.s3Objects(ctx, i, loc)
			}
			for obj, err := range objs {
				if !yield(obj, err) || err != nil {
					return
				}
			}
		}
	}
}

func (s *Source) s3Objects(ctx context.Context, i int, loc Location) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
			Bucket: aws.String(loc.Bucket),
			Prefix: aws.String(loc.Prefix),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(Object{}, fmt.Errorf("list %s: %w", loc, describeS3Error(err, "s3:ListBucket", "bucket "+loc.Bucket)))
				return
			}
			for _, o := range page.Contents {
				key := aws.ToString(o.Key)
				if strings.HasSuffix(key, "/") {
					continue
				}
				if len(s.locs) > 1 {
					key = "s3://" + loc.Bucket + "/" + key
				}
				if !yield(Object{Key: key, Size: aws.ToInt64(o.Size), loc: i}, nil) {
					return
				}
			}
		}
	}
}

// errStop ends a WalkDir early without an error.
var errStop = errors.New("stop")

func (s *Source) localObjects(ctx context.Context, i int, loc Location) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		// A location that is a symbolic link to a folder is read as that
		// folder: a trailing separator makes WalkDir's Lstat follow it.
		root := loc.Path
		if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			if fi, err := os.Stat(root); err == nil && fi.IsDir() {
				root += string(filepath.Separator)
			}
		}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				if path != root && isSidecarDir(path) {
					return filepath.SkipDir
				}
				return nil
			}
			obj := Object{Key: path, loc: i}
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				// A link to a file is read; a link to a folder is not
				// followed (it could loop), and says so.
				fi, err := os.Stat(path)
				switch {
				case err != nil:
					obj.skip = fmt.Sprintf("a symbolic link that can't be followed: %v", err)
				case fi.IsDir():
					obj.skip = "a symbolic link to a folder, not followed: give its target as a location of its own"
				case fi.Mode().IsRegular():
					obj.Size = fi.Size()
				default:
					obj.skip = "a symbolic link to something that is not a file"
				}
			case d.Type().IsRegular():
				info, err := d.Info()
				if err != nil {
					return err
				}
				obj.Size = info.Size()
			default:
				obj.skip = "not a regular file (" + d.Type().String() + ")"
			}
			if !yield(obj, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(Object{}, fmt.Errorf("read %s: %w", loc.Path, err))
		}
	}
}

// isSidecarDir reports the folder where a local S3 (gofakes3's s3afero
// backend, which internal/s3local and "ttl-archiver invoke" run) keeps
// each object's metadata: DIR/metadata beside DIR/buckets. Its files are
// not archive objects.
func isSidecarDir(path string) bool {
	if filepath.Base(path) != "metadata" {
		return false
	}
	fi, err := os.Stat(filepath.Join(filepath.Dir(path), "buckets"))
	return err == nil && fi.IsDir()
}

// gzipMagic starts every gzip stream (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// Open returns the content of obj, gunzipped when it starts with the gzip
// magic bytes (Firehose's GZIP compression), as it is otherwise. Gzip
// streams of several members (concatenated gzip files) are read whole.
func (s *Source) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	var body io.ReadCloser
	if obj.loc < 0 || obj.loc >= len(s.locs) {
		return nil, fmt.Errorf("read %s: not an object of %s", obj.Key, s)
	}
	if obj.skip != "" {
		return nil, fmt.Errorf("%w: %s", ErrNotReadable, obj.skip)
	}
	if loc := s.locs[obj.loc]; loc.IsS3() {
		key := strings.TrimPrefix(obj.Key, "s3://"+loc.Bucket+"/")
		out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(key)})
		if err != nil {
			return nil, fmt.Errorf("get s3://%s/%s: %w", loc.Bucket, key, describeS3Error(err, "s3:GetObject", "s3://"+loc.Bucket+"/"+key))
		}
		body = out.Body
	} else {
		f, err := os.Open(obj.Key)
		if err != nil {
			return nil, err
		}
		body = f
	}
	br := bufio.NewReaderSize(body, 64*1024)
	head, err := br.Peek(len(gzipMagic))
	if err != nil && err != io.EOF {
		_ = body.Close()
		return nil, fmt.Errorf("read %s: %w", obj.Key, err)
	}
	if !bytes.Equal(head, gzipMagic) {
		return readCloser{br, body}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		_ = body.Close()
		return nil, fmt.Errorf("gunzip %s: %w", obj.Key, err)
	}
	return readCloser{zr, closers{zr, body}}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// ObjectLines yields the lines of obj after line number after (0 for
// all), skipping empty lines. A line longer than MaxLineBytes yields a
// *LineError wrapping ErrLineTooLong and reading goes on; any other error
// (the object cannot be opened, read or gunzipped) is a *LineError that
// ends the sequence. Errors are never yielded together with a line.
func (s *Source) ObjectLines(ctx context.Context, obj Object, after int) iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		rc, err := s.Open(ctx, obj)
		if err != nil {
			yield(Line{}, &LineError{Object: obj.Key, Err: err})
			return
		}
		defer func() { _ = rc.Close() }()
		r := bufio.NewReaderSize(rc, 256*1024)
		var buf []byte
		for n := 1; ; n++ {
			if err := ctx.Err(); err != nil {
				yield(Line{}, &LineError{Object: obj.Key, Line: n, Err: err})
				return
			}
			line, tooLong, err := readLine(r, &buf)
			if err != nil && (err != io.EOF || len(line) == 0 && !tooLong) {
				if err != io.EOF {
					yield(Line{}, &LineError{Object: obj.Key, Line: n, Err: err})
				}
				return
			}
			switch {
			case n <= after:
			case tooLong:
				if !yield(Line{}, &LineError{Object: obj.Key, Line: n, Err: ErrLineTooLong}) {
					return
				}
			case len(line) > 0:
				if fe, ok := firehoseError(line); ok {
					if !yieldCarried(yield, obj.Key, n, fe) {
						return
					}
					break
				}
				if !yield(Line{Object: obj.Key, Number: n, Data: line}, nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
		}
	}
}

// firehoseErrorRecord is what Firehose writes to its error prefix for a
// record it could not deliver: the error and the record's data in base64,
// one JSON object a line ("rawData"; the error's fields are spelled
// errorCode or ErrorCode, which encoding/json matches alike).
type firehoseErrorRecord struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	RawData      []byte `json:"rawData"`
}

// firehoseError reads a Firehose error record. Archive lines start with
// their table; only other lines that mention rawData are decoded.
func firehoseError(line []byte) (firehoseErrorRecord, bool) {
	if bytes.HasPrefix(line, []byte(`{"table":`)) || !bytes.Contains(line, []byte(`"rawData"`)) {
		return firehoseErrorRecord{}, false
	}
	var fe firehoseErrorRecord
	if json.Unmarshal(line, &fe) != nil || fe.ErrorCode == "" || len(fe.RawData) == 0 {
		return firehoseErrorRecord{}, false
	}
	return fe, true
}

// yieldCarried yields the lines a Firehose error record carries (one, or
// several when the archiver packed them into one record), each with the
// record's line number and error code.
func yieldCarried(yield func(Line, error) bool, object string, n int, fe firehoseErrorRecord) bool {
	for l := range bytes.SplitSeq(fe.RawData, []byte("\n")) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) == 0 {
			continue
		}
		if !yield(Line{Object: object, Number: n, Data: l, FirehoseError: fe.ErrorCode}, nil) {
			return false
		}
	}
	return true
}

// readLine reads up to and without the next "\n" into *buf. A line over
// MaxLineBytes is read to its end and dropped (tooLong). err is io.EOF
// after the last line, with that line if it had no "\n".
func readLine(r *bufio.Reader, buf *[]byte) (line []byte, tooLong bool, err error) {
	b := (*buf)[:0]
	for {
		frag, err := r.ReadSlice('\n')
		if !tooLong {
			if len(b)+len(frag) > MaxLineBytes+1 { // +1: the "\n"
				tooLong, b = true, b[:0]
			} else {
				b = append(b, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		*buf = b
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		if tooLong {
			b = nil
		}
		return b, tooLong, err
	}
}

// Lines yields every line of every object, in order. Errors are yielded
// as ObjectLines and Objects yield them; a consumer that goes on after an
// error about one object gets the lines of the next.
func (s *Source) Lines(ctx context.Context) iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		for obj, err := range s.Objects(ctx) {
			if err != nil {
				yield(Line{}, err)
				return
			}
			for l, err := range s.ObjectLines(ctx, obj, 0) {
				if !yield(l, err) {
					return
				}
			}
		}
	}
}
