package restore

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// S3WriteAPI is the part of the S3 client Export writes with, with the
// SDK's own signatures.
type S3WriteAPI interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ S3WriteAPI = (*s3.Client)(nil)

// DefaultPartBytes is how much item JSON (before gzip) goes into one
// exported object.
const DefaultPartBytes = 256 << 20

// ExportOptions configure an export to DynamoDB's S3 import format.
type ExportOptions struct {
	Source *archivefs.Source
	Filter archivefs.Filter
	Hints  TypeHints
	// To is an S3 prefix (written with S3) or a local directory. It must
	// be empty: ImportTable reads every object under the prefix.
	To archivefs.Location
	S3 S3WriteAPI
	// HashKey and RangeKey name the new table's key attributes; when
	// empty they are derived from the lines' keys.
	HashKey, RangeKey string
	// NewTable and Region go into the printed import-table command.
	NewTable, Region string
	PartBytes        int64
	// Rejects is the file (appended to) that receives the lines whose
	// items were not exported (see rejects.go); empty: counted only.
	Rejects  string
	Warn     io.Writer
	Progress func(Progress)
}

// ExportReport is what an export did.
type ExportReport struct {
	Counts
	Parts []string // objects or files written
	Keys  []KeyAttr
	// KeysGuessed is set when two key attributes were found and which
	// is the partition key was guessed from their names.
	KeysGuessed bool
	// Rejected counts items over DynamoDB's 400 KB limit, which
	// ImportTable would refuse; they are in RejectsFile.
	Rejected    int
	RejectsFile string
	// Command is the aws CLI command that imports the parts into a new
	// table. It is set only when every selected item was exported.
	Command string
	// Seen holds the tables and days of the lines the filter left out.
	Seen *archivefs.Seen
}

// ErrSeveralTables is returned by Export when the selected lines come
// from more than one source table and no table was chosen.
var ErrSeveralTables = errors.New("the archive holds lines of several tables")

// ErrNothingSelected is returned by Export when no line gave an item.
var ErrNothingSelected = errors.New("no items selected: nothing to import")

// Export rewrites the newest version of each selected item as DynamoDB's
// S3 import format DYNAMODB_JSON: one {"Item":{...}} per line, in gzipped
// objects, which ImportTable loads into a new table without using write
// capacity. Items over 400 KB are not written (ImportTable would refuse
// them). When a line could not be read or an item not exported, the
// error wraps ErrIncomplete and no import command is given.
func Export(ctx context.Context, o ExportOptions) (rep ExportReport, err error) {
	if err := checkExportPaths(o); err != nil {
		return rep, err
	}
	if o.Rejects != "" {
		if err := checkWritable(o.Rejects); err != nil {
			return rep, fmt.Errorf("rejects file: %w", err)
		}
	}
	if o.Warn == nil {
		o.Warn = io.Discard
	}
	if o.PartBytes <= 0 {
		o.PartBytes = DefaultPartBytes
	}
	if err := o.Filter.Check(); err != nil {
		return rep, err
	}
	if err := checkEmpty(ctx, o.To, o.S3); err != nil {
		return rep, err
	}
	idx, err := buildIndex(ctx, o.Source, o.Filter, nil, func(lines int) {
		if o.Progress != nil {
			o.Progress(Progress{Pass: "index", Lines: lines})
		}
	})
	if err != nil {
		return rep, err
	}
	if tables := idx.sortedTables(); len(tables) > 1 {
		return rep, fmt.Errorf("%w (%s): a new table holds the items of one: choose it with --source-table", ErrSeveralTables, strings.Join(tables, ", "))
	}
	// Keys are known once the first selected line is read; a B hint on a
	// key attribute applies to its value too.
	sel := newSelector(o.Filter, newItemDecoder(o.Hints, nil), o.Warn)
	sel.newest = idx
	rejects := &rejectsFile{path: o.Rejects}
	var rejectErr error
	reject := func(l archivefs.Line, reason string) {
		if err := rejects.add(l.Data, l.Object, l.Number, reason); err != nil && rejectErr == nil {
			rejectErr = err
		}
	}
	sel.reject = reject
	defer func() { _ = rejects.close() }()
	pw := &partWriter{to: o.To, s3: o.S3, limit: o.PartBytes}
	// A failed export leaves nothing in --to (ImportTable would read a
	// part of it), and says what it had read.
	failed := true
	defer func() {
		if failed {
			pw.abort(context.WithoutCancel(ctx))
			rep.Counts, rep.Parts, rep.Seen = sel.counts, nil, &sel.filtered
		}
	}()
	var keys []KeyAttr
	var line []byte
	for obj, err := range o.Source.Objects(ctx) {
		if err != nil {
			return rep, err
		}
		lost := false
		stop, stopErr := sel.stopAt(obj.Key)
		for l, err := range o.Source.ObjectLines(ctx, obj, 0) {
			if stop > 0 && (err != nil || l.Number >= stop) {
				sel.unreadable(stopErr)
				lost = true
				break
			}
			if err != nil {
				if sel.lineErr(err) {
					lost = true
					break
				}
				continue
			}
			it, al := sel.lineItem(l)
			if o.Progress != nil && sel.counts.Lines%4096 == 0 {
				o.Progress(Progress{Pass: "write", Lines: sel.counts.Lines, Items: sel.counts.Items - rep.Rejected})
			}
			if it == nil {
				continue
			}
			if keys == nil {
				kv, err := archivefs.KeyValues(*al)
				if err != nil {
					return rep, fmt.Errorf("%s line %d: %w", l.Object, l.Number, err)
				}
				keys, rep.KeysGuessed, err = deriveKeys(kv, o.Hints, o.HashKey, o.RangeKey)
				if err != nil {
					return rep, fmt.Errorf("%s line %d: %w", l.Object, l.Number, err)
				}
			}
			if err := checkKeys(it, keys, o.NewTable); err != nil {
				sel.counts.Items--
				sel.counts.Unconvertible++
				sel.problem("%s line %d: %v", l.Object, l.Number, err)
				reject(l, err.Error())
				continue
			}
			if n := itemSize(it); n > MaxItemBytes {
				rep.Rejected++
				reason := fmt.Sprintf("the item is %d bytes, over DynamoDB's item size limit of %d: ImportTable would refuse it", n, MaxItemBytes)
				fmt.Fprintf(o.Warn, "refused: %s line %d: %s\n", l.Object, l.Number, reason)
				reject(l, reason)
				continue
			}
			line = append(line[:0], `{"Item":`...)
			line = AppendTypedJSON(line, it)
			line = append(line, "}\n"...)
			if err := pw.write(ctx, line); err != nil {
				return rep, err
			}
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if !lost {
			sel.counts.Objects++
		}
	}
	if err := pw.close(ctx); err != nil {
		return rep, err
	}
	if err := rejects.close(); err != nil {
		return rep, err
	}
	if rejectErr != nil {
		return rep, rejectErr
	}
	failed = false
	rep.Counts, rep.Parts, rep.Keys, rep.Seen = sel.counts, pw.parts, keys, &sel.filtered
	if rejects.n > 0 {
		rep.RejectsFile = o.Rejects
	}
	if o.Progress != nil {
		o.Progress(Progress{Pass: "write", Lines: rep.Lines, Items: rep.Items - rep.Rejected})
	}
	var why []string
	if rep.Unreadable > 0 {
		why = append(why, fmt.Sprintf("%d objects could not be read to their end (see above)", rep.Unreadable))
	}
	if rep.Invalid > 0 {
		why = append(why, fmt.Sprintf("%d lines are not archive lines", rep.Invalid))
	}
	if rep.Unconvertible > 0 {
		why = append(why, fmt.Sprintf("%d items could not be converted", rep.Unconvertible))
	}
	if rep.Rejected > 0 {
		why = append(why, fmt.Sprintf("%d items are over 400 KB", rep.Rejected))
	}
	if len(why) > 0 {
		msg := strings.Join(why, "; ")
		if rep.RejectsFile != "" {
			msg += " (the items are in " + rep.RejectsFile + " with the reasons)"
		}
		return rep, fmt.Errorf("%w: %s: the export misses them, so no import command is given", ErrIncomplete, msg)
	}
	if rep.Items == 0 {
		return rep, ErrNothingSelected
	}
	rep.Command = importCommand(o.To, o.NewTable, o.Region, keys)
	return rep, nil
}

// ErrOverlap is returned by Export when --to is inside a --from: it
// would read its own output.
var ErrOverlap = errors.New("the export's destination is inside its source")

// checkExportPaths refuses a destination inside a source location.
func checkExportPaths(o ExportOptions) error {
	if o.Source == nil {
		return nil
	}
	for _, from := range o.Source.Locations() {
		if inside(o.To, from) {
			return fmt.Errorf("%w: --to %s is inside --from %s, so the export would read its own output: choose a destination outside the archive", ErrOverlap, o.To, from)
		}
	}
	return nil
}

// inside reports whether location a is within location b.
func inside(a, b archivefs.Location) bool {
	if a.IsS3() != b.IsS3() {
		return false
	}
	if a.IsS3() {
		return a.Bucket == b.Bucket && strings.HasPrefix(a.Prefix, b.Prefix)
	}
	pa, err1 := filepath.Abs(a.Path)
	pb, err2 := filepath.Abs(b.Path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(pb, pa)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkEmpty fails when the destination already holds objects.
func checkEmpty(ctx context.Context, to archivefs.Location, c S3WriteAPI) error {
	if to.IsS3() {
		if c == nil {
			return errors.New("export: no S3 client")
		}
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(to.Bucket), Prefix: aws.String(partPrefix(to.Prefix)), MaxKeys: aws.Int32(1)})
		if err != nil {
			return fmt.Errorf("list %s: %w", to, err)
		}
		if len(out.Contents) > 0 {
			return fmt.Errorf("%s is not empty (%s): ImportTable reads every object under the prefix; choose an empty prefix", to, aws.ToString(out.Contents[0].Key))
		}
		return nil
	}
	entries, err := os.ReadDir(to.Path)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(to.Path, 0o755)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("directory %s is not empty: ImportTable reads every object under the prefix it is uploaded to; choose an empty one", to.Path)
	}
	return nil
}

// partPrefix makes a non-empty prefix end in "/".
func partPrefix(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// hashNames and rangeNames are usual key attribute names, for guessing
// which of two key attributes is the partition key.
var (
	hashNames  = []string{"pk", "partitionkey", "partition_key", "hashkey", "hash_key", "id"}
	rangeNames = []string{"sk", "sortkey", "sort_key", "rangekey", "range_key"}
)

// deriveKeys returns the key schema of the lines' keys: HASH first.
func deriveKeys(kv map[string]archivefs.KeyValue, hints TypeHints, hash, rng string) ([]KeyAttr, bool, error) {
	typ := func(name string) (string, error) {
		v, ok := kv[name]
		if !ok {
			return "", fmt.Errorf("key attribute %q is not among the lines' keys (%s)", name, keyNames(kv))
		}
		if hints[name] == "B" {
			return "B", nil
		}
		return v.Type, nil
	}
	names := keyNames(kv)
	guessed := false
	switch {
	case hash != "":
		if rng == "" && len(kv) == 2 {
			for n := range kv {
				if n != hash {
					rng = n
				}
			}
		}
	case len(kv) == 1:
		hash = names[0]
	case len(kv) == 2:
		a, b := names[0], names[1]
		switch {
		case rng != "":
			hash = a
			if a == rng {
				hash = b
			}
		case isOneOf(b, hashNames) && !isOneOf(a, hashNames), isOneOf(a, rangeNames) && !isOneOf(b, rangeNames):
			hash, rng = b, a
		default:
			hash, rng = a, b
			guessed = !isOneOf(hash, hashNames) && !isOneOf(rng, rangeNames)
		}
	default:
		return nil, false, fmt.Errorf("the lines' keys have %d attributes (%s): want 1 or 2", len(kv), strings.Join(names, ", "))
	}
	ht, err := typ(hash)
	if err != nil {
		return nil, false, err
	}
	keys := []KeyAttr{{Name: hash, Type: ht, KeyType: "HASH"}}
	if rng != "" {
		rt, err := typ(rng)
		if err != nil {
			return nil, false, err
		}
		keys = append(keys, KeyAttr{Name: rng, Type: rt, KeyType: "RANGE"})
	}
	return keys, guessed, nil
}

func keyNames(kv map[string]archivefs.KeyValue) []string {
	names := make([]string, 0, len(kv))
	for n := range kv {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func isOneOf(name string, list []string) bool {
	return slices.Contains(list, strings.ToLower(name))
}

// importCommand returns the aws CLI command that creates a table from the
// exported objects.
func importCommand(to archivefs.Location, table, region string, keys []KeyAttr) string {
	type attrDef struct {
		AttributeName string
		AttributeType string
	}
	type keyElem struct {
		AttributeName string
		KeyType       string
	}
	params := struct {
		TableName            string
		AttributeDefinitions []attrDef
		KeySchema            []keyElem
		BillingMode          string
	}{TableName: table, BillingMode: "PAY_PER_REQUEST"}
	for _, k := range keys {
		params.AttributeDefinitions = append(params.AttributeDefinitions, attrDef{k.Name, k.Type})
		params.KeySchema = append(params.KeySchema, keyElem{k.Name, k.KeyType})
	}
	pj, _ := json.Marshal(params) // strings and slices cannot fail to marshal
	var b strings.Builder
	bucket, prefix := "<bucket>", "<prefix>/"
	if to.IsS3() {
		bucket, prefix = to.Bucket, partPrefix(to.Prefix)
	} else {
		fmt.Fprintf(&b, "aws s3 cp --recursive %s s3://%s/%s\n", shellQuote(to.Path), bucket, prefix)
	}
	b.WriteString("aws dynamodb import-table")
	if region != "" {
		fmt.Fprintf(&b, " --region %s", shellQuote(region))
	}
	src := "S3Bucket=" + bucket
	if prefix != "" {
		src += ",S3KeyPrefix=" + prefix
	}
	fmt.Fprintf(&b, " \\\n  --s3-bucket-source %s \\\n  --input-format DYNAMODB_JSON \\\n  --input-compression-type GZIP \\\n  --table-creation-parameters %s\n",
		shellQuote(src), shellQuote(string(pj)))
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		safe := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:", r)
		return !safe
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// partWriter writes gzipped parts of at most limit bytes before gzip.
type partWriter struct {
	to    archivefs.Location
	s3    S3WriteAPI
	limit int64
	parts []string

	f    *os.File
	zw   *gzip.Writer
	n    int64
	name string
}

func (p *partWriter) write(ctx context.Context, line []byte) error {
	if p.f != nil && p.n+int64(len(line)) > p.limit {
		if err := p.finish(ctx); err != nil {
			return err
		}
	}
	if p.f == nil {
		p.name = fmt.Sprintf("part-%05d.json.gz", len(p.parts))
		var err error
		if p.to.IsS3() {
			p.f, err = os.CreateTemp("", "ttl-archiver-export-*.json.gz")
		} else {
			p.f, err = os.Create(filepath.Join(p.to.Path, p.name))
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		p.zw, p.n = gzip.NewWriter(p.f), 0
	}
	p.n += int64(len(line))
	if _, err := p.zw.Write(line); err != nil {
		return fmt.Errorf("export: write %s: %w", p.name, err)
	}
	return nil
}

// finish closes the part being written and, for S3, uploads it.
func (p *partWriter) finish(ctx context.Context) error {
	f := p.f
	p.f = nil
	err := p.zw.Close()
	if err == nil {
		err = f.Sync()
	}
	if !p.to.IsS3() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("export: write %s: %w", f.Name(), err)
		}
		p.parts = append(p.parts, f.Name())
		return nil
	}
	defer func() { _ = os.Remove(f.Name()) }()
	defer func() { _ = f.Close() }()
	if err != nil {
		return fmt.Errorf("export: write %s: %w", p.name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	key := path.Join(p.to.Prefix, p.name)
	if _, err := p.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.to.Bucket), Key: aws.String(key), Body: f}); err != nil {
		return fmt.Errorf("export: put s3://%s/%s: %w", p.to.Bucket, key, err)
	}
	p.parts = append(p.parts, "s3://"+p.to.Bucket+"/"+key)
	return nil
}

func (p *partWriter) close(ctx context.Context) error {
	if p.f == nil {
		return nil
	}
	return p.finish(ctx)
}

// abort drops what the export wrote: the part being written and the
// parts finished, locally or in S3, so that a failed export leaves no
// partial import in --to (and a run again is not refused for it).
func (p *partWriter) abort(ctx context.Context) {
	if p.f != nil {
		_ = p.zw.Close()
		_ = p.f.Close()
		_ = os.Remove(p.f.Name())
		p.f = nil
	}
	for _, part := range p.parts {
		if key, ok := strings.CutPrefix(part, "s3://"+p.to.Bucket+"/"); ok && p.to.IsS3() {
			_, _ = p.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.to.Bucket), Key: aws.String(key)})
		} else {
			_ = os.Remove(part)
		}
	}
	p.parts = nil
}
