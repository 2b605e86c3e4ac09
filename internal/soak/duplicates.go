package soak

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
)

// Why a record was sent again: the outcome of an invocation that carried
// it and did not get it checkpointed.
const (
	causeKilled  = "killed"           // the process was killed mid-invocation: the whole batch again (bisected)
	causeTimeout = "timeout"          // the invocation ran into its deadline: the whole batch again
	causeError   = "function_error"   // the function returned an error: the whole batch again
	causePartial = "partial_response" // records failed: the batch again from the lowest failed one
	causeNone    = ""                 // the invocation succeeded
	// causeWithin: no invocation that carried the record failed, so both
	// copies were sent by one invocation. The archiver sends a record
	// again only after Firehose failed it, which the invocation would
	// then report; what is left is below it: the AWS SDK's own retry
	// (AWS_MAX_ATTEMPTS) of a call whose answer it did not read, after
	// Firehose had accepted the records.
	causeWithin = "within_one_invocation"
)

// invocation is what the duplicate accounting keeps of one invocation:
// the records it carried (positions in their shard) and how it ended.
type invocation struct {
	first, last int32 // positions of the first and last record
	lowest      int32 // partial response: position of the lowest failed record
	cause       string
	requestID   string
}

// invocations records every invocation, by shard, from its payload.
type invocations struct {
	s      *stream
	mu     sync.Mutex
	byShrd map[int32][]invocation
}

var eventIDField = []byte(`{"eventID":"`)

// observe is a Functions observer.
func (iv *invocations) observe(payload []byte, out esm.Outcome) {
	first, ok1 := iv.recordAt(payload, bytes.Index(payload, eventIDField))
	last, ok2 := iv.recordAt(payload, bytes.LastIndex(payload, eventIDField))
	if !ok1 || !ok2 || first.shard != last.shard {
		return
	}
	inv := invocation{first: first.index, last: last.index, lowest: -1, requestID: out.RequestID}
	switch {
	case out.FunctionError == nil:
		resp := esm.ParseResponse(out.Response, nil)
		if resp.Verdict == esm.Success {
			break // nothing to send again
		}
		inv.cause = causePartial
		inv.lowest = iv.lowestFailed(out.Response, first.shard)
	case out.FunctionError.TimedOut:
		inv.cause = causeTimeout
	case out.FunctionError.Type == "Runtime.ExitError":
		inv.cause = causeKilled
	default:
		inv.cause = causeError
	}
	iv.mu.Lock()
	iv.byShrd[first.shard] = append(iv.byShrd[first.shard], inv)
	iv.mu.Unlock()
}

// recordAt returns the generated record whose JSON starts at i.
func (iv *invocations) recordAt(payload []byte, i int) (*item, bool) {
	if i < 0 || i+len(eventIDField)+32 > len(payload) {
		return nil, false
	}
	k, ok := parseEventKey(string(payload[i+len(eventIDField) : i+len(eventIDField)+32]))
	if !ok {
		return nil, false
	}
	it := iv.s.lookup(k)
	return it, it != nil
}

// lowestFailed returns the position of the lowest record a partial batch
// response names, -1 when it names none of the shard's.
func (iv *invocations) lowestFailed(response []byte, shard int32) int32 {
	lowest := int32(-1)
	for _, seq := range failedSequenceNumbers(response) {
		if idx, ok := iv.s.bySeq(shard, seq); ok && (lowest < 0 || idx < lowest) {
			lowest = idx
		}
	}
	return lowest
}

// duplicateCauses attributes each duplicate line to the outcome of the
// first invocation that carried the record and failed it (a partial
// response counts for the records from its lowest failed one on).
func (iv *invocations) duplicateCauses() (causes map[string]int, within []string) {
	causes = map[string]int{}
	for k, i := range iv.s.index {
		it := &iv.s.items[i]
		if it.archived < 2 {
			continue
		}
		cause := causeWithin
		for _, inv := range iv.byShrd[it.shard] {
			if it.index < inv.first || it.index > inv.last || inv.cause == causeNone {
				continue
			}
			if inv.cause == causePartial && inv.lowest >= 0 && it.index < inv.lowest {
				continue // checkpointed by this invocation
			}
			cause = inv.cause
			break
		}
		causes[cause] += int(it.archived - 1)
		if cause == causeWithin && len(within) < 5 {
			var covering []string
			for _, inv := range iv.byShrd[it.shard] {
				if it.index >= inv.first && it.index <= inv.last {
					covering = append(covering, fmt.Sprintf("%+v", inv))
				}
			}
			rec, _ := iv.s.record(it)
			within = append(within, fmt.Sprintf("event %x (shard %d record %d, %s) archived %d times; invocations that carried it: %v",
				k[:], it.shard, it.index, rec.SequenceNumber, it.archived, covering))
		}
	}
	return causes, within
}

// failedSequenceNumbers returns the itemIdentifiers of a partial batch
// response.
func failedSequenceNumbers(response []byte) []string {
	var r struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if json.Unmarshal(response, &r) != nil {
		return nil
	}
	seqs := make([]string, len(r.BatchItemFailures))
	for i, f := range r.BatchItemFailures {
		seqs[i] = f.ItemIdentifier
	}
	return seqs
}

// bySeq returns the position of the record with the sequence number in
// shard number n.
func (s *stream) bySeq(n int32, seq string) (int32, bool) {
	recs := s.shardNumber(n).Records
	i := sort.Search(len(recs), func(i int) bool { return esm.CompareSequenceNumbers(recs[i].SequenceNumber, seq) >= 0 })
	if i < len(recs) && recs[i].SequenceNumber == seq {
		return int32(i), true
	}
	return 0, false
}
