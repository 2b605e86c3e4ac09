package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrNotStreamEvent is returned for a payload that is not a DynamoDB
// stream event: not a JSON object with a Records array. Nothing in it can be
// told apart, so the whole batch fails (and with the template's settings
// ends in the on-failure destination with its payload).
var ErrNotStreamEvent = errors.New("payload is not a DynamoDB stream event")

// ErrNotDynamoDBStream is returned for an event with a record that does
// not say it comes from a DynamoDB stream: its eventSource is not
// "aws:dynamodb" (an SQS, Kinesis or S3 event has "aws:sqs",
// "aws:kinesis", "aws:s3"; an SNS one has EventSource "aws:sns"), or the
// record is not an object. The function was given a trigger it must not
// have: the whole batch fails and nothing of it is archived, so that
// Lambda's error metrics and the template's alarms show the mistake
// instead of a success that archived nothing, or archived the wrong thing.
var ErrNotDynamoDBStream = errors.New("event is not from a DynamoDB stream (check the function's triggers)")

// dynamoDBEventSource is every DynamoDB stream record's eventSource.
const dynamoDBEventSource = "aws:dynamodb"

// jstr is a string field as scanned: raw contents and flags.
type jstr struct {
	raw   []byte
	flags strFlags
	ok    bool
}

func (j jstr) decoded() []byte { return decodeString(j.raw, j.flags) }

// recordFields is what the reader keeps of one stream record.
type recordFields struct {
	eventID, eventName, region, arn jstr
	seq, viewType                   jstr
	source, snsSource               jstr // eventSource; EventSource (SNS spells it so)
	identityType, principalID       jstr
	hasIdentity                     bool
	created                         []byte // ApproximateCreationDateTime, number text
	keys, item                      [2]int // spans in the conversion buffer; -1 when absent
	problems                        []string
	undecided                       bool // a field needed to classify the record is unreadable
}

func (r *recordFields) problem(msg string) { r.problems = append(r.problems, msg) }

// lineInfo is one archive line written to the batch buffer.
type lineInfo struct {
	start, end int
	seq        []byte // SequenceNumber, decoded; empty when the record had none
	raw        bool   // archived raw, with an error
	table      int    // index in batch.tables; -1 when the record names no table
}

// batch is one invocation's work: the lines, back to back in out, and the
// counts so far. An Archiver keeps its batches (getBatch): the buffers
// are reused across invocations.
type batch struct {
	out    []byte
	recs   []fhRecord // Firehose records, reused
	calls  []call     // PutRecordBatch calls, reused
	conv   []byte
	lines  []lineInfo
	fields recordFields
	c      converter
	counts Counts
	errs   []string // first few record problems, for the log
	tables []string // the tables the lines came from (lineInfo.table)
	prev   previous
}

const maxLoggedProblems = 5

func (b *batch) reset(f Format) {
	b.out = b.out[:0]
	b.conv = b.conv[:0]
	b.lines = b.lines[:0]
	b.c.format = f
	b.counts = Counts{}
	b.errs = b.errs[:0]
	b.tables = b.tables[:0]
	b.prev.reset()
}

// tableIndex returns the index in b.tables of the table a record's
// eventSourceARN names, adding it when it is new; -1 for no table. A batch
// from an event source mapping holds one table, so this is one comparison
// per record.
func (b *batch) tableIndex(name []byte) int {
	if len(name) == 0 {
		return -1
	}
	for i, t := range b.tables {
		if t == string(name) {
			return i
		}
	}
	b.tables = append(b.tables, string(name))
	return len(b.tables) - 1
}

// minRecordBytes is less than any stream record Lambda sends: eventID,
// eventName, eventVersion, eventSource, awsRegion, eventSourceARN and the
// dynamodb metadata alone are over 300 bytes.
const minRecordBytes = 300

// reserve sizes the batch's buffers for a payload of n bytes before it is
// read: a process's first invocations would otherwise grow them step by
// step, copying what they hold each time, for about as much work as the
// conversion itself. A TTL deletion's line is about the size of its record
// or smaller (the type names and most of the stream's metadata go), so n
// bytes of lines is enough for most batches; the buffers still grow if
// not, and are kept for the next invocations (Archiver.getBatch).
func (b *batch) reserve(n int) {
	if cap(b.out) < n {
		b.out = make([]byte, 0, n)
	}
	if l := n / minRecordBytes; cap(b.lines) < l {
		b.lines = make([]lineInfo, 0, l)
		b.recs = make([]fhRecord, 0, l)
	}
}

// read decodes the payload record by record and writes a line for every
// TTL deletion. A syntax error anywhere, or a payload that is not a stream
// event, fails the whole batch; anything wrong inside one record is kept
// with that record.
func (b *batch) read(payload []byte) error {
	s := scanner{data: payload}
	if s.peek() != '{' {
		if s.pos >= len(payload) {
			return errors.Join(ErrNotStreamEvent, errors.New("payload is empty"))
		}
		return errors.Join(ErrNotStreamEvent, errors.New("payload is not a JSON object"))
	}
	found := false
	err := s.object(func(name []byte) error {
		if string(name) != "Records" {
			return s.skip()
		}
		if s.peek() != '[' {
			if err := s.skip(); err != nil {
				return err
			}
			return errors.Join(ErrNotStreamEvent, errors.New("the Records field is not an array"))
		}
		found = true
		s.pos++
		if s.peek() == ']' {
			s.pos++
			return nil
		}
		for {
			if err := b.record(&s); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return nil
			default:
				return s.errorf("want , or ] in Records")
			}
		}
	})
	if err != nil {
		return err
	}
	if s.ws(); s.pos != len(payload) {
		return s.errorf("data after the event")
	}
	if !found {
		return errors.Join(ErrNotStreamEvent, errors.New("no Records array"))
	}
	return nil
}

// record reads one element of Records and, for a TTL deletion, writes its
// line. Only syntax errors are returned.
func (b *batch) record(s *scanner) error {
	b.counts.Received++
	start := s.peekPos()
	r := &b.fields
	*r = recordFields{keys: [2]int{-1, -1}, item: [2]int{-1, -1}, problems: r.problems[:0]}
	b.conv = b.conv[:0]
	if s.peek() != '{' {
		if err := s.skip(); err != nil {
			return err
		}
		return fmt.Errorf("%w: record %d is not a JSON object", ErrNotDynamoDBStream, b.counts.Received-1)
	}
	if err := s.members(recordNames, func(field int, _ []byte) error { return b.recordField(s, r, field) }); err != nil {
		return err
	}
	if err := r.checkSource(b.counts.Received - 1); err != nil {
		return err
	}
	return b.finish(r, s.data[start:s.pos])
}

// checkSource returns an error unless record i says it comes from a
// DynamoDB stream.
func (r *recordFields) checkSource(i int) error {
	switch src := r.source.decoded(); {
	case r.source.ok && string(src) == dynamoDBEventSource:
		return nil
	case r.source.ok:
		return fmt.Errorf("%w: record %d has eventSource %q, want %q", ErrNotDynamoDBStream, i, src, dynamoDBEventSource)
	case r.snsSource.ok:
		return fmt.Errorf("%w: record %d has EventSource %q, want eventSource %q", ErrNotDynamoDBStream, i, r.snsSource.decoded(), dynamoDBEventSource)
	}
	return fmt.Errorf("%w: record %d has no eventSource, want %q", ErrNotDynamoDBStream, i, dynamoDBEventSource)
}

// peekPos returns the offset of the next non-space byte.
func (s *scanner) peekPos() int {
	s.ws()
	return s.pos
}

// The members of a stream record the reader looks at, in the order Lambda
// writes them (recordNames).
const (
	fieldEventID = iota
	fieldEventName
	fieldEventVersion // passed over
	fieldEventSource
	fieldAWSRegion
	fieldDynamoDB
	fieldUserIdentity
	fieldEventSourceARN
	fieldSNSEventSource
)

var recordNames = newMemberNames("eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "userIdentity", "eventSourceARN", "EventSource")

// The members of a record's dynamodb object the reader looks at.
const (
	fieldCreated   = iota
	fieldPrecision // passed over
	fieldKeys
	fieldOldImage
	fieldSequenceNumber
	fieldSizeBytes // passed over
	fieldStreamViewType
)

// The members of userIdentity the reader looks at.
const (
	fieldIdentityType = iota
	fieldPrincipalID
)

var (
	dynamodbNames = newMemberNames("ApproximateCreationDateTime", "ApproximateCreationDateTimePrecision", "Keys", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType")
	identityNames = newMemberNames("type", "principalId")
)

// recordField reads the record's member field (an index of recordNames;
// -1 for another member, which is passed over).
func (b *batch) recordField(s *scanner, r *recordFields, field int) error {
	switch field {
	case fieldEventID:
		return strField(s, r, &r.eventID, "eventID")
	case fieldEventName:
		err := strField(s, r, &r.eventName, "eventName")
		if !r.eventName.ok {
			r.undecided = true
		}
		return err
	case fieldAWSRegion:
		return strField(s, r, &r.region, "awsRegion")
	case fieldEventSource:
		return strField(s, r, &r.source, "eventSource")
	case fieldSNSEventSource:
		return strField(s, r, &r.snsSource, "EventSource")
	case fieldEventSourceARN:
		return strField(s, r, &r.arn, "eventSourceARN")
	case fieldUserIdentity:
		// A member given twice counts by its last value, null as absent.
		r.hasIdentity, r.identityType, r.principalID = false, jstr{}, jstr{}
		switch s.peek() {
		case 'n':
			return s.literal("null")
		case '{':
			r.hasIdentity = true
			return s.members(identityNames, func(field int, _ []byte) error {
				switch field {
				case fieldIdentityType:
					return strField(s, r, &r.identityType, "userIdentity.type")
				case fieldPrincipalID:
					return strField(s, r, &r.principalID, "userIdentity.principalId")
				}
				return s.skip()
			})
		}
		r.problem("userIdentity is not an object")
		r.undecided = true
		return s.skip()
	case fieldDynamoDB:
		r.created, r.keys, r.item, r.seq, r.viewType = nil, [2]int{-1, -1}, [2]int{-1, -1}, jstr{}, jstr{}
		if s.peek() != '{' {
			r.problem("dynamodb is not an object")
			return s.skip()
		}
		return s.members(dynamodbNames, func(field int, _ []byte) error { return b.dynamodbField(s, r, field) })
	}
	return s.skip()
}

func (b *batch) dynamodbField(s *scanner, r *recordFields, field int) error {
	switch field {
	case fieldCreated:
		r.created = nil
		switch s.peek() {
		case 'n':
			return s.literal("null")
		case '"', '{', '[', 't', 'f':
			r.problem("dynamodb.ApproximateCreationDateTime is not a number")
			return s.skip()
		}
		n, err := s.number()
		r.created = n
		return err
	case fieldKeys:
		return b.image(s, r, &r.keys, "Keys")
	case fieldOldImage:
		return b.image(s, r, &r.item, "OldImage")
	case fieldSequenceNumber:
		return strField(s, r, &r.seq, "dynamodb.SequenceNumber")
	case fieldStreamViewType:
		return strField(s, r, &r.viewType, "dynamodb.StreamViewType")
	}
	return s.skip()
}

// image converts Keys or OldImage into the conversion buffer, unless the
// record is already known not to be a REMOVE. Stream records put eventName
// before dynamodb, so images of inserts and modifies are only skipped.
func (b *batch) image(s *scanner, r *recordFields, span *[2]int, field string) error {
	*span = [2]int{-1, -1}
	if s.peek() == 'n' {
		return s.literal("null")
	}
	if r.eventName.ok && string(r.eventName.raw) != ttlEventName {
		return s.skip()
	}
	start := s.pos
	n := len(b.conv)
	out, err := b.c.image(b.conv, s)
	if err == nil {
		b.conv = out
		*span = [2]int{n, len(out)}
		return nil
	}
	b.conv = b.conv[:n]
	if isSyntaxError(err) {
		return err
	}
	r.problem("dynamodb." + field + ": " + err.Error())
	s.pos = start
	return s.skip()
}

// strField reads a string field; null counts as absent, another type is a
// problem of the record. A field given twice counts by its last value (a
// later null clears it), as a JSON object read into a map has it.
func strField(s *scanner, r *recordFields, dst *jstr, name string) error {
	*dst = jstr{}
	switch s.peek() {
	case '"':
		raw, flags, err := s.str()
		if err != nil {
			return err
		}
		if flags&strNonASCII != 0 && !utf8.Valid(raw) {
			r.problem(name + " is not valid UTF-8")
			return nil
		}
		*dst = jstr{raw: raw, flags: flags, ok: true}
		return nil
	case 'n':
		return s.literal("null")
	}
	r.problem(name + " is not a string")
	return s.skip()
}

// lineMeta is what a line says about its record besides keys and item.
type lineMeta struct {
	table, region []byte
	deletedAt     []byte // RFC 3339; nil when unknown
	// provenance is written last, as it is: the members of a line not
	// read from a stream (recovered.go); nil for the stream's lines.
	provenance []byte
}

// previous keeps what finish worked out from the stream ARN, the
// creation time, the table and the region of the records before: the
// records of a batch share one ARN, and often the second they were
// deleted in, so each is parsed, formatted or quoted once a run.
type previous struct {
	arn           lastOf[parsedARN]
	created       lastOf[parsedTime]
	table, region lastOf[[]byte] // quoted as JSON strings
}

// reset forgets the last keys (they point into the last payload) and
// keeps the buffers.
func (p *previous) reset() {
	p.arn.set, p.created.set, p.table.set, p.region.set = false, false, false, false
}

// lastOf keeps the value computed from the last key.
type lastOf[T any] struct {
	key []byte
	val T
	set bool
}

// get returns compute(key, v), computed only when key is not the last
// one; v is the last value, whose buffers compute may reuse.
func (l *lastOf[T]) get(key []byte, compute func(key []byte, v T) T) T {
	if !l.set || !bytes.Equal(key, l.key) {
		l.key, l.val, l.set = key, compute(key, l.val), true
	}
	return l.val
}

type parsedARN struct {
	table, region []byte
	ok            bool
}

func parseARN(arn []byte, _ parsedARN) parsedARN {
	table, region, ok := parseStreamARN(arn)
	return parsedARN{table: table, region: region, ok: ok}
}

type parsedTime struct {
	text []byte // ApproximateCreationDateTime as RFC 3339
	err  error
}

// formatTime parses ApproximateCreationDateTime's number (epochTime) and
// formats it into v's buffer.
func formatTime(num []byte, v parsedTime) parsedTime {
	t, err := epochTime(num)
	if err != nil {
		return parsedTime{text: v.text[:0], err: err}
	}
	return parsedTime{text: t.AppendFormat(v.text[:0], time.RFC3339Nano)}
}

// quoteJSON quotes s as a JSON string into v's buffer.
func quoteJSON(s, v []byte) []byte { return appendQuoted(v[:0], s) }

// finish classifies a read record and writes its line when it is, or may
// be, a TTL deletion.
func (b *batch) finish(r *recordFields, raw []byte) error {
	if !r.eventName.ok {
		r.undecided = true
	}
	if !r.undecided {
		if reason := classify(r.eventName.decoded(), r.identityType.decoded(), r.principalID.decoded(), r.hasIdentity); reason != notSkipped {
			b.counts.Skipped[reason]++
			return nil
		}
	} else if !r.eventName.ok {
		r.problem("eventName is missing or not a string")
	}
	// A TTL deletion, or a record too damaged to tell: archive it.
	if r.keys[0] < 0 && len(r.problems) == 0 {
		r.problem("dynamodb.Keys is missing")
	}
	var m lineMeta
	arn := b.prev.arn.get(r.arn.decoded(), parseARN)
	switch {
	case !r.arn.ok:
		r.problem("eventSourceARN is missing")
	case !arn.ok:
		r.problem("eventSourceARN is not a DynamoDB table stream ARN")
	}
	m.table, m.region = arn.table, arn.region
	if r.region.ok {
		m.region = r.region.decoded()
	}
	created := b.prev.created.get(r.created, formatTime)
	if created.err == nil {
		m.deletedAt = created.text
	} else {
		r.problem("dynamodb.ApproximateCreationDateTime " + created.err.Error())
	}
	if r.item[0] < 0 && len(r.problems) == 0 {
		b.counts.NoOldImage++
	}
	line := len(b.out)
	var fits bool
	if b.out, fits = b.appendFitted(b.out, r, &m, raw); !fits {
		// Too large even with the item gzipped (a huge damaged record):
		// it cannot be delivered. Reporting it failed keeps it in the
		// stream, then in the on-failure destination, whole.
		b.counts.Oversize++
		b.noteProblem(r, "archive line over 1,000 KiB even with the item gzipped")
		b.lines = append(b.lines, lineInfo{start: line, end: line, seq: r.seq.decoded(), table: b.tableIndex(m.table)})
		return nil
	}
	isRaw := len(r.problems) > 0
	if isRaw {
		b.noteProblem(r, strings.Join(r.problems, "; "))
	}
	b.lines = append(b.lines, lineInfo{start: line, end: len(b.out), seq: r.seq.decoded(), raw: isRaw, table: b.tableIndex(m.table)})
	return nil
}

func (b *batch) noteProblem(r *recordFields, msg string) {
	if len(b.errs) < maxLoggedProblems {
		b.errs = append(b.errs, "record "+string(r.seq.decoded())+": "+msg)
	}
}

// appendFitted appends the line of a record, with its item gzipped when
// the line would exceed one Firehose record (MaxRecordBytes). fits is
// false, and dst returned as it was, when even that is too large.
func (b *batch) appendFitted(dst []byte, r *recordFields, m *lineMeta, raw []byte) (_ []byte, fits bool) {
	line := len(dst)
	dst = b.appendLine(dst, r, m, raw, shrinkNone)
	if len(dst)-line > MaxRecordBytes && r.item[0] >= 0 {
		// Too large for one Firehose record: store the item gzipped.
		dst = b.appendLine(dst[:line], r, m, raw, shrinkItem)
	}
	if len(dst)-line > MaxRecordBytes && len(r.problems) > 0 {
		// A record archived raw: its stream record gzipped too.
		dst = b.appendLine(dst[:line], r, m, raw, shrinkItemAndRaw)
	}
	if len(dst)-line > MaxRecordBytes {
		return dst[:line], false
	}
	return dst, true
}

// How appendLine shrinks a line that would not fit in a Firehose record.
const (
	shrinkNone       = iota
	shrinkItem       // the item in item_gzip
	shrinkItemAndRaw // and the stream record of a record archived raw in raw_gzip
)

// appendLine writes the archive line of a record (see [Line]).
func (b *batch) appendLine(dst []byte, r *recordFields, m *lineMeta, raw []byte, shrink int) []byte {
	dst = append(dst, `{"table":`...)
	dst = append(dst, b.prev.table.get(m.table, quoteJSON)...)
	dst = append(dst, `,"region":`...)
	dst = append(dst, b.prev.region.get(m.region, quoteJSON)...)
	dst = append(dst, `,"event_id":`...)
	dst = appendString(dst, r.eventID.raw, r.eventID.flags)
	dst = append(dst, `,"sequence_number":`...)
	dst = appendString(dst, r.seq.raw, r.seq.flags)
	dst = append(dst, `,"deleted_at":`...)
	if m.deletedAt != nil {
		dst = append(dst, '"')
		dst = append(dst, m.deletedAt...)
		dst = append(dst, '"')
	} else {
		dst = append(dst, "null"...)
	}
	if b.c.format == FormatDynamoDBJSON {
		dst = append(dst, `,"format":"dynamodb-json"`...)
	}
	dst = append(dst, `,"keys":`...)
	dst = b.appendSpan(dst, r.keys)
	dst = append(dst, `,"item":`...)
	if shrink >= shrinkItem && r.item[0] >= 0 {
		dst = append(dst, `null,"item_gzip":"`...)
		dst = appendGzipBase64(dst, b.conv[r.item[0]:r.item[1]])
		dst = append(dst, '"')
	} else {
		dst = b.appendSpan(dst, r.item)
	}
	if len(r.problems) > 0 {
		dst = append(dst, `,"error":`...)
		dst = appendQuoted(dst, []byte(strings.Join(r.problems, "; ")))
		if shrink == shrinkItemAndRaw {
			dst = append(dst, `,"raw_gzip":"`...)
			dst = appendGzipBase64(dst, raw)
			dst = append(dst, '"')
		} else {
			dst = appendRaw(dst, raw)
		}
	}
	dst = append(dst, m.provenance...)
	return append(dst, '}', '\n')
}

func (b *batch) appendSpan(dst []byte, span [2]int) []byte {
	if span[0] < 0 {
		return append(dst, "null"...)
	}
	return append(dst, b.conv[span[0]:span[1]]...)
}

// appendRaw writes the record as received: compacted JSON under "raw", or
// its bytes under "raw_base64" when they are not valid UTF-8 (which JSON
// text must be).
func appendRaw(dst, raw []byte) []byte {
	if utf8.Valid(raw) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err == nil {
			dst = append(dst, `,"raw":`...)
			return append(dst, buf.Bytes()...)
		}
	}
	dst = append(dst, `,"raw_base64":"`...)
	dst = appendBase64(dst, raw)
	return append(dst, '"')
}

// parseStreamARN returns the table name and region of a DynamoDB stream
// ARN: arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL.
// It allocates nothing: it runs once per record.
func parseStreamARN(arn []byte) (table, region []byte, ok bool) {
	var parts [6][]byte
	rest := arn
	for i := range 5 {
		var found bool
		if parts[i], rest, found = bytes.Cut(rest, []byte(":")); !found {
			return nil, nil, false
		}
	}
	parts[5] = rest
	if string(parts[0]) != "arn" || string(parts[2]) != "dynamodb" {
		return nil, nil, false
	}
	rest, found := bytes.CutPrefix(parts[5], []byte("table/"))
	if !found {
		return nil, parts[3], false
	}
	name, _, _ := bytes.Cut(rest, []byte("/"))
	if len(name) == 0 {
		return nil, parts[3], false
	}
	return name, parts[3], true
}

// maxEpoch is 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const maxEpoch = 253402300799

// epochTime converts ApproximateCreationDateTime (epoch seconds, possibly
// with a fraction or an exponent) to a time, exactly for plain decimals.
func epochTime(num []byte) (time.Time, error) {
	if len(num) == 0 {
		return time.Time{}, errors.New("is missing")
	}
	intPart, frac, hasFrac := bytes.Cut(num, []byte("."))
	if bytes.ContainsAny(num, "eE-") || len(intPart) > 12 {
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil || f < 0 || f > maxEpoch || math.IsNaN(f) {
			return time.Time{}, errors.New("is out of range")
		}
		sec := math.Floor(f)
		usec := math.Round((f - sec) * 1e6)
		return time.Unix(int64(sec), int64(usec)*1000).UTC(), nil
	}
	var sec int64
	for _, c := range intPart {
		sec = sec*10 + int64(c-'0')
	}
	var nsec int64
	if hasFrac {
		for i := 0; i < 9; i++ {
			nsec *= 10
			if i < len(frac) {
				nsec += int64(frac[i] - '0')
			}
		}
	}
	if sec > maxEpoch {
		return time.Time{}, errors.New("is out of range")
	}
	return time.Unix(sec, nsec).UTC(), nil
}
