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

// BuildPayload returns the invocation payload for records:
// {"Records":[<record>,<record>,...]}, each record's Data as it is.
func BuildPayload(records []Record) []byte {
	b := make([]byte, 0, PayloadSize(records))
	b = append(b, payloadHead...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r.Data...)
	}
	return append(b, payloadTail...)
}

// PayloadSize is len(BuildPayload(records)), without building it.
func PayloadSize(records []Record) int {
	n := len(payloadHead) + len(payloadTail)
	for i, r := range records {
		if i > 0 {
			n++
		}
		n += len(r.Data)
	}
	return n
}

// cut returns how many of the records, from the first, make the next batch:
// at most batchSize, and no more than fit in limit bytes of payload. Zero
// means the first record does not fit even alone.
func cut(records []Record, batchSize, limit int) int {
	size := len(payloadHead) + len(payloadTail)
	n := 0
	for n < len(records) && n < batchSize {
		add := len(records[n].Data)
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
