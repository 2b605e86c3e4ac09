package archive

// MaxLinesPerPackedRecord is the most lines a packed record holds: Firehose's
// multi-record de-aggregation, which a stream partitioning packed records by
// content needs, splits at most 500 records out of one ("Record
// deaggregation by JSON or by delimiter is capped at 500 per record",
// Amazon Data Firehose Developer Guide, Apply dynamic partitioning to
// aggregated data).
const MaxLinesPerPackedRecord = 500

// fhRecord is one Firehose record: a run of whole lines, back to back in
// the batch buffer. Unpacked, each record is one line; packed, as many
// consecutive lines as fit in MaxRecordBytes and MaxLinesPerPackedRecord.
// A line is never split.
type fhRecord struct {
	start, end  int // span in batch.out
	first, last int // lines[first:last]
}

// records cuts the batch's lines into Firehose records.
func (b *batch) records(pack bool, dst []fhRecord) []fhRecord {
	dst = dst[:0]
	for i, l := range b.lines {
		if l.end == l.start {
			continue // an oversize record: no line to send; reported failed
		}
		if pack && len(dst) > 0 {
			last := &dst[len(dst)-1]
			// Lines are written back to back, so consecutive ones share
			// an edge in the buffer unless an oversize record sat between.
			if last.end == l.start && last.last == i && l.end-last.start <= MaxRecordBytes && i+1-last.first <= MaxLinesPerPackedRecord {
				last.end = l.end
				last.last = i + 1
				continue
			}
		}
		dst = append(dst, fhRecord{start: l.start, end: l.end, first: i, last: i + 1})
	}
	return dst
}

// call is a run of records sent in one PutRecordBatch call.
type call struct{ first, last int }

// calls groups records into PutRecordBatch calls of at most batchSize
// records and MaxBytesPerCall bytes. Every record fits a call on its own,
// since no record exceeds MaxRecordBytes.
func calls(recs []fhRecord, batchSize int, dst []call) []call {
	dst = dst[:0]
	for i := 0; i < len(recs); {
		j, size := i, 0
		for j < len(recs) && j-i < batchSize && size+recs[j].end-recs[j].start <= MaxBytesPerCall {
			size += recs[j].end - recs[j].start
			j++
		}
		dst = append(dst, call{first: i, last: j})
		i = j
	}
	return dst
}
