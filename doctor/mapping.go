package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TTLFilterPattern is the filter that lets only TTL deletions through:
// a REMOVE whose userIdentity is the DynamoDB service (AWS-FACTS.md). It
// is the pattern template.yaml gives every mapping.
const TTLFilterPattern = `{"eventName":["REMOVE"],"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`

// maxReaders is how many readers a stream's shard allows at once; AWS
// advises one for a global table's replica (AWS-FACTS.md).
const (
	maxReaders        = 2
	maxReplicaReaders = 1
)

// mapping is an event source mapping as the checks see it.
type mapping = ltypes.EventSourceMappingConfiguration

// listMappings lists every mapping with the given event source ARN, or
// of the given function, following the pages.
func listMappings(ctx context.Context, c LambdaAPI, in *lambda.ListEventSourceMappingsInput) ([]mapping, error) {
	var all []mapping
	p := lambda.NewListEventSourceMappingsPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, short(err)
		}
		all = append(all, out.EventSourceMappings...)
	}
	return all, nil
}

// functionName returns the name in a function name or ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]).
func functionName(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	parts := strings.Split(s, ":")
	if len(parts) >= 7 {
		return parts[6]
	}
	return s
}

// ofFunction returns the mappings of the function named fn.
func ofFunction(ms []mapping, fn string) []mapping {
	var out []mapping
	for _, m := range ms {
		if functionName(aws.ToString(m.FunctionArn)) == functionName(fn) {
			out = append(out, m)
		}
	}
	return out
}

// sameJSON reports whether two JSON texts are the same value, the
// elements of arrays compared as sets (an event pattern's values are
// alternatives, in no order).
func sameJSON(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(canonical(va), canonical(vb))
}

// canonical returns v with every array sorted by its elements' JSON.
func canonical(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = canonical(e)
		}
		return v
	case []any:
		keys := make([]string, len(v))
		for i, e := range v {
			v[i] = canonical(e)
			b, _ := json.Marshal(v[i])
			keys[i] = string(b)
		}
		sort.Sort(byKey{keys, v})
		return v
	}
	return v
}

type byKey struct {
	keys []string
	vals []any
}

func (b byKey) Len() int           { return len(b.keys) }
func (b byKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b byKey) Swap(i, j int) {
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
	b.vals[i], b.vals[j] = b.vals[j], b.vals[i]
}

// filterStatus says whether a mapping's filters are the TTL filter: ok
// when it is the only pattern, warn when other patterns let more
// through beside it, fail when it is missing.
func filterStatus(m mapping) (Status, string) {
	var patterns []string
	if m.FilterCriteria != nil {
		for _, f := range m.FilterCriteria.Filters {
			patterns = append(patterns, aws.ToString(f.Pattern))
		}
	}
	has := false
	for _, p := range patterns {
		if sameJSON(p, TTLFilterPattern) {
			has = true
		}
	}
	switch {
	case len(patterns) == 0:
		return Fail, "no filter: every change of the table invokes the function"
	case !has:
		return Fail, fmt.Sprintf("its filter is not the TTL filter: %s", strings.Join(patterns, " "))
	case len(patterns) > 1:
		return Warn, fmt.Sprintf("%d filter patterns: records matching the others reach the function too", len(patterns))
	}
	return OK, "the TTL filter"
}

// checkMapping: the stack's function has a mapping on the table's
// current stream, Enabled, with the TTL filter, partial batch responses
// and TRIM_HORIZON. A mapping on an old stream of the table, with none
// on the current one, is the stack not redeployed after the stream was
// re-enabled.
func (r *run) checkMapping(ctx context.Context) {
	const name = "mapping"
	arn, err := r.streamArn()
	if err != nil {
		r.mappingsErr = err
		r.rep.add(couldNot(name, err, "enable the table's stream first (see stream)"))
		return
	}
	r.onStream, err = listMappings(ctx, r.o.Lambda, &lambda.ListEventSourceMappingsInput{EventSourceArn: aws.String(arn)})
	if err != nil {
		r.mappingsErr = fmt.Errorf("list event source mappings of %s: %w", arn, err)
		r.rep.add(couldNot(name, r.mappingsErr, "check the credentials' lambda:ListEventSourceMappings permission"))
		return
	}
	fn, err := r.output(outputFunction)
	if err != nil {
		r.rep.add(couldNot(name, err, r.outputFix()))
		return
	}
	r.ours = ofFunction(r.onStream, fn)
	deployArn := fmt.Sprintf("sam deploy --stack-name %s --parameter-overrides TableStreamArns=%s (with the stack's other tables' ARNs, comma-separated)", r.o.Stack, arn)
	if r.o.Region != "" {
		deployArn = strings.Replace(deployArn, "sam deploy", "sam deploy --region "+r.o.Region, 1)
	}
	// The function's mappings on the table's other (old) streams.
	mine, err := listMappings(ctx, r.o.Lambda, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn)})
	if err != nil {
		r.rep.add(couldNot(name, fmt.Errorf("list event source mappings of function %s: %w", fn, err), "check the credentials' lambda:ListEventSourceMappings permission"))
		return
	}
	var old []string
	prefix := r.tableArn() + "/stream/"
	for _, m := range mine {
		if a := aws.ToString(m.EventSourceArn); strings.HasPrefix(a, prefix) && a != arn {
			old = append(old, a)
		}
	}
	if len(r.ours) == 0 {
		c := Check{Name: name, Status: Fail, Fix: "deploy with the new ARN in TableStreamArns: " + deployArn}
		if len(old) > 0 {
			c.Detail = fmt.Sprintf("function %s reads an old stream of the table (%s), not its current stream %s: TTL deletions are not archived", fn, list(old), arn)
		} else {
			c.Detail = fmt.Sprintf("function %s has no mapping on the table's stream %s: TTL deletions are not archived", fn, arn)
		}
		r.rep.add(c)
		return
	}
	m := r.ours[0]
	uuid := aws.ToString(m.UUID)
	update := func(args string) string {
		return r.aws("lambda update-event-source-mapping --uuid %s %s", uuid, args)
	}
	status := OK
	var found, fixes []string
	note := func(s Status, what, fix string) {
		status = worse(status, s)
		found = append(found, what)
		if fix != "" && s != OK {
			fixes = append(fixes, fix)
		}
	}
	switch state := aws.ToString(m.State); state {
	case "Enabled":
		note(OK, "Enabled", "")
	case "Creating", "Enabling", "Updating":
		note(Warn, state+" (not reading yet)", "wait a minute and run doctor again")
	default:
		note(Fail, state+": TTL deletions are not archived", update("--enabled"))
	}
	fs, fd := filterStatus(m)
	note(fs, fd, update("--filter-criteria '{\"Filters\":[{\"Pattern\":"+quoteJSON(TTLFilterPattern)+"}]}'"))
	if hasReportBatchItemFailures(m) {
		note(OK, "ReportBatchItemFailures", "")
	} else {
		note(Fail, "no ReportBatchItemFailures: the function's partial batch responses are ignored, and records it reports failed are dropped", update("--function-response-types ReportBatchItemFailures"))
	}
	if m.StartingPosition == ltypes.EventSourcePositionTrimHorizon {
		note(OK, "TRIM_HORIZON", "")
	} else {
		note(Warn, fmt.Sprintf("starting position %s, not TRIM_HORIZON: deletions before the mapping was created were skipped", m.StartingPosition),
			"a starting position is set at creation: nothing to change now; see the README's backfill for the deletions skipped")
	}
	if len(old) > 0 {
		note(Warn, fmt.Sprintf("also reads an old stream of the table (%s)", list(old)), "remove the old ARN from TableStreamArns once it is drained: "+deployArn)
	}
	r.mappingOK = status == OK
	r.rep.add(Check{Name: name, Status: status,
		Detail: fmt.Sprintf("mapping %s of %s on %s: %s", uuid, fn, arn, strings.Join(found, ", ")),
		Fix:    strings.Join(fixes, "; ")})
}

// tableArn is the table's ARN, from DescribeTable or else from its
// stream ARN (TABLE_ARN/stream/LABEL).
func (r *run) tableArn() string {
	if a := aws.ToString(r.table.TableArn); a != "" {
		return a
	}
	a, _, _ := strings.Cut(aws.ToString(r.table.LatestStreamArn), "/stream/")
	return a
}

func hasReportBatchItemFailures(m mapping) bool {
	for _, t := range m.FunctionResponseTypes {
		if t == ltypes.FunctionResponseTypeReportBatchItemFailures {
			return true
		}
	}
	return false
}

// quoteJSON returns s as a JSON string.
func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// checkReaders: no more than two readers per shard, one for a global
// table's replica. Only Lambda event source mappings are counted; other
// consumers of the stream (a KCL application, EventBridge Pipes) are not
// seen here. A disabled mapping reads nothing and is not counted.
func (r *run) checkReaders() {
	const name = "readers"
	if r.mappingsErr != nil {
		r.rep.add(couldNot(name, r.mappingsErr, "see mapping"))
		return
	}
	readers, disabled := 0, 0
	var fns []string
	for _, m := range r.onStream {
		if s := aws.ToString(m.State); s == "Disabled" || s == "Disabling" {
			disabled++
			continue
		}
		readers++
		fns = append(fns, functionName(aws.ToString(m.FunctionArn)))
	}
	c := Check{Name: name, Status: OK}
	c.Detail = fmt.Sprintf("%d %s on the stream", readers, plural(readers, "mapping"))
	if readers > 0 {
		c.Detail += " (" + list(fns) + ")"
	}
	if disabled > 0 {
		c.Detail += fmt.Sprintf(", and %d disabled, not counted", disabled)
	}
	limit, why := maxReaders, "a stream's shard allows about two readers at once: the others are throttled, and the archive falls behind"
	status := Fail
	if r.global() {
		limit, why, status = maxReplicaReaders, "AWS advises one reader per shard for a global table's replica", Warn
	}
	if readers > limit {
		c.Status, c.Detail = status, c.Detail+": "+why
		c.Fix = fmt.Sprintf("remove or disable the other mappings (%s), or move their work onto one reader",
			r.aws("lambda list-event-source-mappings --event-source-arn %s", aws.ToString(r.table.LatestStreamArn)))
	}
	if r.global() && readers > maxReaders {
		c.Status = Fail
	}
	r.rep.add(c)
}
