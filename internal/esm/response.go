package esm

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Verdict is what a function's response means for its batch when
// ReportBatchItemFailures is on.
type Verdict int

const (
	// Success: every record of the batch is done.
	Success Verdict = iota
	// Partial: the records before Response.Lowest are done; the retry
	// starts at it.
	Partial
	// WholeBatchFailed: the response names no usable record, so the whole
	// batch failed.
	WholeBatchFailed
)

func (v Verdict) String() string {
	switch v {
	case Success:
		return "success"
	case Partial:
		return "partial"
	case WholeBatchFailed:
		return "whole batch failed"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Response is a parsed partial batch response.
type Response struct {
	Verdict Verdict
	// Lowest is the index in the batch of the record with the lowest
	// reported sequence number, when Verdict is Partial.
	Lowest int
	// Reason says why the whole batch failed, when it did.
	Reason string
}

// ParseResponse reads a function's response as a partial batch response
// for batch, following "Success and failure conditions" of [PBR] (package
// doc) and the cases recorded against AWS in [LS]:
//
//   - empty bytes, null, "", [], {}, a missing, null or empty
//     batchItemFailures: success;
//   - itemIdentifiers that are all sequence numbers of the batch: partial,
//     resuming from the lowest ("If the batchItemFailures array contains
//     multiple items, Lambda uses the record with the lowest sequence
//     number as the checkpoint. Lambda then retries all records starting
//     from that checkpoint.");
//   - an itemIdentifier that is missing, null, empty, not a string, or not
//     in the batch: the whole batch failed.
//
// Anything else (not JSON, a number, a non-empty array, a
// batchItemFailures that is not an array) fails the whole batch; AWS does
// not document those cases.
func ParseResponse(body []byte, batch []Record) Response {
	body = bytes.TrimSpace(body)
	switch string(body) {
	case "", "null", `""`:
		return Response{Verdict: Success}
	}
	if body[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(body, &list); err == nil && len(list) == 0 {
			return Response{Verdict: Success}
		}
		return failed("the response is a non-empty array, not an object")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return failed("the response is not a JSON object: " + err.Error())
	}
	raw, ok := obj["batchItemFailures"]
	if !ok || string(raw) == "null" {
		return Response{Verdict: Success}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return failed("batchItemFailures is not an array")
	}
	if len(items) == 0 {
		return Response{Verdict: Success}
	}
	index := make(map[string]int, len(batch))
	for i, r := range batch {
		index[r.SequenceNumber] = i
	}
	lowest := -1
	for _, item := range items {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(item, &fields); err != nil || fields == nil {
			return failed("a batchItemFailures entry is not an object")
		}
		id, ok := fields["itemIdentifier"]
		if !ok {
			return failed("a batchItemFailures entry has no itemIdentifier")
		}
		if string(id) == "null" {
			return failed("itemIdentifier is null")
		}
		var seq string
		if err := json.Unmarshal(id, &seq); err != nil {
			return failed("itemIdentifier " + string(id) + " is not a string")
		}
		if seq == "" {
			return failed("itemIdentifier is empty")
		}
		i, ok := index[seq]
		if !ok {
			return failed("itemIdentifier " + seq + " is not a sequence number of the batch")
		}
		if lowest < 0 || i < lowest {
			lowest = i
		}
	}
	return Response{Verdict: Partial, Lowest: lowest}
}

func failed(reason string) Response {
	return Response{Verdict: WholeBatchFailed, Reason: reason}
}
