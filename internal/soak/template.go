package soak

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	ttlarchiver "github.com/ttl-archiver/ttl-archiver"
	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

const functionID = "ArchiverFunction"

// Deployment is what the template says about how the function is driven and
// configured, resolved for one set of parameter values.
type Deployment struct {
	// Mapping is the event source mapping: BatchSize,
	// MaximumBatchingWindow, ParallelizationFactor, ReportBatchItemFailures,
	// BisectBatchOnFunctionError, MaximumRetryAttempts,
	// MaximumRecordAgeInSeconds and FunctionTimeout, as the template's
	// mappings set them. Destination, ARNs and Concurrency are left for
	// the caller.
	Mapping esm.Mapping
	// OnFailure says the mappings have an on-failure destination.
	OnFailure bool
	// Filters are the mappings' FilterCriteria patterns.
	Filters []esm.FilterPattern
	// Env holds the function's environment variables that the parameters
	// decide (BATCH_SIZE=400, ARCHIVE_FORMAT=json, ...). Those only a
	// deployment knows, such as FIREHOSE_STREAM_NAME, are left out: the
	// local stack supplies them.
	Env []string
}

// ReadDeployment reads the event source mapping and the function settings
// from the template (the built-in template.yaml when text is nil) with the
// given parameter values (nil for the defaults). Every
// AWS::Lambda::EventSourceMapping of the template, the per-table ones of
// Fn::ForEach included, must resolve to the same settings: the soak drives
// all shards with one of them.
func ReadDeployment(text []byte, params map[string]string) (Deployment, error) {
	if text == nil {
		text = ttlarchiver.Template
	}
	d, err := readDeployment(text, params)
	if err != nil {
		return Deployment{}, fmt.Errorf("read template: %w", err)
	}
	return d, nil
}

func readDeployment(text []byte, params map[string]string) (Deployment, error) {
	t, err := samtemplate.Parse(text)
	if err != nil {
		return Deployment{}, err
	}
	r, err := samtemplate.NewResolver(t, params)
	if err != nil {
		return Deployment{}, err
	}
	mappings := r.Template().ResourcesOfType("AWS::Lambda::EventSourceMapping")
	if len(mappings) == 0 {
		return Deployment{}, errors.New("no AWS::Lambda::EventSourceMapping")
	}
	var d Deployment
	for i, res := range mappings {
		got, err := readMapping(r, res.Properties)
		if err != nil {
			return Deployment{}, fmt.Errorf("%s: %w", res.LogicalID, err)
		}
		if i > 0 && !sameMapping(d, got) {
			return Deployment{}, fmt.Errorf("%s is configured unlike %s", res.LogicalID, mappings[0].LogicalID)
		}
		d = got
	}
	fn, ok := r.Template().Resources[functionID]
	if !ok {
		return Deployment{}, fmt.Errorf("no %s", functionID)
	}
	timeout, err := intProp(r, fn.Properties, "Timeout")
	if err != nil {
		return Deployment{}, fmt.Errorf("%s: %w", functionID, err)
	}
	d.Mapping.FunctionTimeout = time.Duration(timeout) * time.Second
	vars, _ := samtemplate.Lookup(fn.Properties, "Environment", "Variables")
	m, _ := vars.(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, err := r.String(m[k])
		if errors.Is(err, samtemplate.ErrUnresolved) {
			continue
		}
		if err != nil {
			return Deployment{}, fmt.Errorf("%s variable %s: %w", functionID, k, err)
		}
		if v == "" {
			// Declared empty, as AWS_ENDPOINT_URL_FIREHOSE is for sam local
			// invoke: unset for the function, and passed on it would hide
			// the local stack's endpoint.
			continue
		}
		d.Env = append(d.Env, k+"="+v)
	}
	return d, nil
}

func readMapping(r *samtemplate.Resolver, p map[string]any) (Deployment, error) {
	m := esm.DefaultMapping()
	var window int
	ints := map[string]*int{
		"BatchSize":                      &m.BatchSize,
		"ParallelizationFactor":          &m.ParallelizationFactor,
		"MaximumRetryAttempts":           &m.MaximumRetryAttempts,
		"MaximumRecordAgeInSeconds":      &m.MaximumRecordAgeInSeconds,
		"MaximumBatchingWindowInSeconds": &window,
	}
	var err error
	for name, dst := range ints {
		if _, ok := p[name]; !ok {
			continue // the service default, as in DefaultMapping
		}
		if *dst, err = intProp(r, p, name); err != nil {
			return Deployment{}, err
		}
	}
	m.MaximumBatchingWindow = time.Duration(window) * time.Second
	if s, err := r.String(p["BisectBatchOnFunctionError"]); err != nil || s != "" {
		if m.BisectBatchOnFunctionError, err = strconv.ParseBool(s); err != nil {
			return Deployment{}, fmt.Errorf("BisectBatchOnFunctionError %q: %w", s, err)
		}
	}
	types, err := r.Resolve(p["FunctionResponseTypes"])
	if err != nil {
		return Deployment{}, fmt.Errorf("FunctionResponseTypes: %w", err)
	}
	list, _ := types.([]any)
	m.ReportBatchItemFailures = slices.Contains(list, any("ReportBatchItemFailures"))
	d := Deployment{Mapping: m}
	_, d.OnFailure = samtemplate.Lookup(p, "DestinationConfig", "OnFailure", "Destination")
	if d.Filters, err = samtemplate.MappingFilters(p); err != nil {
		return Deployment{}, err
	}
	return d, nil
}

func intProp(r *samtemplate.Resolver, props map[string]any, name string) (int, error) {
	s, err := r.String(props[name])
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q: not an integer", name, s)
	}
	return n, nil
}

func sameMapping(a, b Deployment) bool {
	return a.Mapping == b.Mapping && a.OnFailure == b.OnFailure &&
		slices.EqualFunc(a.Filters, b.Filters, func(x, y esm.FilterPattern) bool { return x.String() == y.String() })
}
