package samtemplate_test

import (
	"errors"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

func TestMappingFilters(t *testing.T) {
	ok := map[string]any{"FilterCriteria": map[string]any{"Filters": []any{
		map[string]any{"Pattern": `{"a":["x"]}`},
		map[string]any{"Pattern": `{"b":["y"]}`},
	}}}
	fs, err := samtemplate.MappingFilters(ok)
	if err != nil || len(fs) != 2 {
		t.Fatalf("MappingFilters = %v, %v", fs, err)
	}
	if !matchAny(fs, map[string]any{"b": "y"}) || matchAny(fs, map[string]any{"c": "z"}) {
		t.Error("MatchAny does not OR the filters")
	}
	if fs, err := samtemplate.MappingFilters(map[string]any{}); err != nil || fs != nil {
		t.Errorf("no FilterCriteria: %v, %v; want none", fs, err)
	}
	sixFilters := make([]any, 6)
	for i := range sixFilters {
		sixFilters[i] = map[string]any{"Pattern": `{"a":["x"]}`}
	}
	for name, props := range map[string]map[string]any{
		"no filters":         {"FilterCriteria": map[string]any{}},
		"six filters":        {"FilterCriteria": map[string]any{"Filters": sixFilters}},
		"pattern not string": {"FilterCriteria": map[string]any{"Filters": []any{map[string]any{"Pattern": map[string]any{"Fn::Sub": "x"}}}}},
		"bad pattern":        {"FilterCriteria": map[string]any{"Filters": []any{map[string]any{"Pattern": `{"a":"x"}`}}}},
	} {
		if _, err := samtemplate.MappingFilters(props); !errors.Is(err, esm.ErrFilterPattern) {
			t.Errorf("%s: MappingFilters = %v, want ErrFilterPattern", name, err)
		}
	}
}
