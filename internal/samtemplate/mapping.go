package samtemplate

import (
	"fmt"
	"strings"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
)

// MappingFilters returns the filter patterns of an event source mapping's
// properties (AWS::Lambda::EventSourceMapping FilterCriteria). The patterns
// must be literal strings.
func MappingFilters(props map[string]any) ([]esm.FilterPattern, error) {
	fc, ok := props["FilterCriteria"]
	if !ok {
		return nil, nil
	}
	filters, _ := Lookup(fc, "Filters")
	list, ok := filters.([]any)
	if !ok || len(list) == 0 || len(list) > 5 {
		return nil, fmt.Errorf("%w: FilterCriteria.Filters must list 1 to 5 filters", esm.ErrFilterPattern)
	}
	out := make([]esm.FilterPattern, 0, len(list))
	for i, f := range list {
		pv, _ := Lookup(f, "Pattern")
		s, ok := pv.(string)
		if !ok {
			return nil, fmt.Errorf("%w: Filters[%d].Pattern is %s, want a literal string", esm.ErrFilterPattern, i, kindOf(pv))
		}
		p, err := esm.ParseFilterPattern(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("filter %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}
