package soak

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	ttlarchiver "github.com/ttl-archiver/ttl-archiver"
	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

const (
	mappingType  = "AWS::Lambda::EventSourceMapping"
	functionID   = "ArchiverFunction"
	reportFailed = "ReportBatchItemFailures"
)

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
	Filters []samtemplate.FilterPattern
	// Env holds the function's environment variables that the parameters
	// decide (BATCH_SIZE=400, ARCHIVE_FORMAT=json, ...). Those only a
	// deployment knows, such as FIREHOSE_STREAM_NAME, are left out: the
	// local stack supplies them.
	Env []string
}

// ReadDeployment reads the event source mapping and the function settings
// from the template (the built-in template.yaml when text is nil) with the
// given parameter values (nil for the defaults). Every
// AWS::Lambda::EventSourceMapping of the template must resolve to the same
// settings: the soak drives all shards with one of them.
func ReadDeployment(text []byte, params map[string]string) (Deployment, error) {
	if text == nil {
		text = ttlarchiver.Template
	}
	t, err := samtemplate.Parse(text)
	if err != nil {
		return Deployment{}, fmt.Errorf("read template: %w", err)
	}
	r, err := samtemplate.NewResolver(t, params)
	if err != nil {
		return Deployment{}, fmt.Errorf("read template: %w", err)
	}
	mappings := t.ResourcesOfType(mappingType)
	if len(mappings) == 0 {
		return Deployment{}, fmt.Errorf("read template: no %s", mappingType)
	}
	var d Deployment
	for i, res := range mappings {
		got, err := readMapping(r, res)
		if err != nil {
			return Deployment{}, fmt.Errorf("read template: %s: %w", res.LogicalID, err)
		}
		if i == 0 {
			d = got
			continue
		}
		if !sameMapping(d, got) {
			return Deployment{}, fmt.Errorf("read template: %s is configured unlike %s", res.LogicalID, mappings[0].LogicalID)
		}
	}
	fn, ok := t.Resource(functionID)
	if !ok {
		return Deployment{}, fmt.Errorf("read template: no %s", functionID)
	}
	timeout, err := intProp(r, fn.Properties, "Timeout")
	if err != nil {
		return Deployment{}, fmt.Errorf("read template: %s: %w", functionID, err)
	}
	d.Mapping.FunctionTimeout = time.Duration(timeout) * time.Second
	vars, _ := samtemplate.Lookup(fn.Properties, "Environment", "Variables")
	if m, ok := vars.(map[string]any); ok {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			v, err := r.String(m[k])
			if errors.Is(err, samtemplate.ErrUnresolved) {
				continue
			}
			if err != nil {
				return Deployment{}, fmt.Errorf("read template: %s variable %s: %w", functionID, k, err)
			}
			if v == "" {
				// Declared empty, as AWS_ENDPOINT_URL_FIREHOSE is for sam
				// local invoke: unset for the function, and passed on it
				// would hide the local stack's endpoint.
				continue
			}
			d.Env = append(d.Env, k+"="+v)
		}
	}
	return d, nil
}

func readMapping(r *samtemplate.Resolver, res samtemplate.Resource) (Deployment, error) {
	p := res.Properties
	m := esm.DefaultMapping()
	var err error
	ints := []struct {
		name string
		dst  *int
	}{
		{"BatchSize", &m.BatchSize},
		{"ParallelizationFactor", &m.ParallelizationFactor},
		{"MaximumRetryAttempts", &m.MaximumRetryAttempts},
		{"MaximumRecordAgeInSeconds", &m.MaximumRecordAgeInSeconds},
	}
	for _, f := range ints {
		if _, ok := p[f.name]; !ok {
			continue // the service default, as in DefaultMapping
		}
		if *f.dst, err = intProp(r, p, f.name); err != nil {
			return Deployment{}, err
		}
	}
	if _, ok := p["MaximumBatchingWindowInSeconds"]; ok {
		w, err := intProp(r, p, "MaximumBatchingWindowInSeconds")
		if err != nil {
			return Deployment{}, err
		}
		m.MaximumBatchingWindow = time.Duration(w) * time.Second
	}
	if _, ok := p["BisectBatchOnFunctionError"]; ok {
		s, err := r.String(p["BisectBatchOnFunctionError"])
		if err != nil {
			return Deployment{}, fmt.Errorf("BisectBatchOnFunctionError: %w", err)
		}
		if m.BisectBatchOnFunctionError, err = strconv.ParseBool(s); err != nil {
			return Deployment{}, fmt.Errorf("BisectBatchOnFunctionError %q: %w", s, err)
		}
	}
	if v, ok := p["FunctionResponseTypes"]; ok {
		types, err := r.Resolve(v)
		if err != nil {
			return Deployment{}, fmt.Errorf("FunctionResponseTypes: %w", err)
		}
		list, _ := types.([]any)
		m.ReportBatchItemFailures = slices.Contains(list, any(reportFailed))
	}
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
	if a.Mapping != b.Mapping || a.OnFailure != b.OnFailure || len(a.Filters) != len(b.Filters) {
		return false
	}
	for i := range a.Filters {
		if a.Filters[i].String() != b.Filters[i].String() {
			return false
		}
	}
	return true
}
