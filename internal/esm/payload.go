package esm

// MaxPayloadBytes is the largest invocation payload an event source mapping
// sends: 6 MB, the limit of a synchronous invocation. A batch closes when
// one more record would pass it ("The payload size reaches 6 MB. You cannot
// modify this limit.", [ESM] in the package doc).
const MaxPayloadBytes = 6 * 1024 * 1024

const (
	payloadHead = `{"Records":[`
	payloadTail = `]}`
)

// BuildPayload returns the invocation payload for records of the shard:
// {"Records":[<record>,<record>,...]}, each record's JSON as it is. It
// fails only when the shard's Source cannot be read.
func (sh Shard) BuildPayload(records []Record) ([]byte, error) {
	b := make([]byte, 0, sh.PayloadSize(records))
	b = append(b, payloadHead...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = sh.appendRecord(b, r); err != nil {
			return nil, err
		}
	}
	return append(b, payloadTail...), nil
}

// PayloadSize is the length of the payload BuildPayload builds for
// records, without building it.
func (sh Shard) PayloadSize(records []Record) int {
	n := len(payloadHead) + len(payloadTail)
	for i, r := range records {
		if i > 0 {
			n++
		}
		n += sh.recordSize(r)
	}
	return n
}

// cut returns how many of the records, from the first, make the next batch:
// at most batchSize, and no more than fit in limit bytes of payload. Zero
// means the first record does not fit even alone.
func (sh Shard) cut(records []Record, batchSize, limit int) int {
	size := len(payloadHead) + len(payloadTail)
	n := 0
	for n < len(records) && n < batchSize {
		add := sh.recordSize(records[n])
		if n > 0 {
			add++ // the comma
		}
		if size+add > limit {
			break
		}
		size += add
		n++
	}
	return n
}
