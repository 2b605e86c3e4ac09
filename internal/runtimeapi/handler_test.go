package runtimeapi

import (
	"encoding/json"
	"testing"
)

func TestParseFunctionError(t *testing.T) {
	tests := []struct {
		name, header, body string
		wantType, wantMsg  string
	}{
		{"document", "Unhandled", `{"errorType":"customError","errorMessage":"boom"}`, "customError", "boom"},
		{"header only", "Runtime.Crash", ``, "Runtime.Crash", ""},
		{"document without a type", "Unhandled", `{"errorMessage":"boom"}`, "Unhandled", "boom"},
		{"neither", "", `not json`, "Unhandled", "not json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := parseFunctionError(tt.header, []byte(tt.body))
			if fe.Type != tt.wantType || fe.Message != tt.wantMsg || string(fe.Body) != tt.body {
				t.Errorf("parseFunctionError(%q, %q): got %q, %q, want %q, %q", tt.header, tt.body, fe.Type, fe.Message, tt.wantType, tt.wantMsg)
			}
		})
	}
}

// FuzzParseFunctionError checks that any posted error gives a type, and
// the document's type when there is one.
func FuzzParseFunctionError(f *testing.F) {
	f.Add("Unhandled", []byte(`{"errorType":"customError","errorMessage":"boom","stackTrace":[]}`))
	f.Add("", []byte(``))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		fe := parseFunctionError(header, body)
		if fe.Type == "" {
			t.Fatalf("parseFunctionError(%q, %q): got an empty type", header, body)
		}
		var doc errorDocument
		if json.Unmarshal(body, &doc) == nil && doc.ErrorType != "" && fe.Type != doc.ErrorType {
			t.Errorf("parseFunctionError(%q, %q): got type %q, want the document's %q", header, body, fe.Type, doc.ErrorType)
		}
	})
}
