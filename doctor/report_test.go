package doctor

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestReportSummary(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		want   string
		failed bool
	}{
		{"all ok", []Check{{Name: "stack", Status: OK}, {Name: "ttl", Status: OK}}, "2 checks ok", false},
		{"one ok", []Check{{Name: "stack", Status: OK}}, "1 check ok", false},
		{"warnings", []Check{{Name: "stack", Status: OK}, {Name: "pitr", Status: Warn}, {Name: "alarms", Status: Warn}}, "3 checks ok, 2 warnings: pitr, alarms", false},
		{"one failed", []Check{{Name: "mapping", Status: Fail}, {Name: "pitr", Status: Warn}}, "1 check failed: mapping", true},
		{"two failed", []Check{{Name: "mapping", Status: Fail}, {Name: "stack", Status: OK}, {Name: "ttl", Status: Fail}}, "2 checks failed: mapping, ttl", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Report{Checks: tt.checks}
			if got := r.Summary(); got != tt.want {
				t.Errorf("Summary: got %q, want %q", got, tt.want)
			}
			if got := r.Failed(); got != tt.failed {
				t.Errorf("Failed: got %v, want %v", got, tt.failed)
			}
		})
	}
}

func TestReportWriteText(t *testing.T) {
	r := Report{Checks: []Check{
		{Name: "stack", Status: OK, Detail: "stack ttl-archiver is CREATE_COMPLETE", Fix: "never shown"},
		{Name: "mapping", Status: Fail, Detail: "mapping u is Disabled", Fix: "aws lambda update-event-source-mapping --uuid u --enabled"},
		{Name: "pitr", Status: Warn, Detail: "off", Fix: "turn it on"},
	}}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	want := "ok    stack    stack ttl-archiver is CREATE_COMPLETE\n" +
		"fail  mapping  mapping u is Disabled; fix: aws lambda update-event-source-mapping --uuid u --enabled\n" +
		"warn  pitr     off; fix: turn it on\n"
	if got := b.String(); got != want {
		t.Errorf("WriteText: got\n%s\nwant\n%s", got, want)
	}
}

func TestReportWriteJSON(t *testing.T) {
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{"empty", Report{}, `{"ok":true,"checks":[]}` + "\n"},
		{"warn", Report{Checks: []Check{{Name: "pitr", Status: Warn, Detail: "off", Fix: "on"}}},
			`{"ok":true,"checks":[{"name":"pitr","status":"warn","detail":"off","fix":"on"}]}` + "\n"},
		{"fail", Report{Checks: []Check{{Name: "stack", Status: OK, Detail: "d"}, {Name: "ttl", Status: Fail, Detail: "off", Fix: "on"}}},
			`{"ok":false,"checks":[{"name":"stack","status":"ok","detail":"d","fix":""},{"name":"ttl","status":"fail","detail":"off","fix":"on"}]}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.r.WriteJSON(&b); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("WriteJSON: got %s, want %s", got, tt.want)
			}
			if !json.Valid(b.Bytes()) {
				t.Errorf("WriteJSON: got invalid JSON %s", b.String())
			}
		})
	}
}

// TestTTLFilterPatternIsTemplates: the pattern doctor looks for is, to
// the byte, the one template.yaml gives the mappings it deploys.
func TestTTLFilterPatternIsTemplates(t *testing.T) {
	b, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	ms := regexp.MustCompile(`(?m)^\s*- Pattern: '(.*)'\s*$`).FindAllStringSubmatch(string(b), -1)
	if len(ms) == 0 {
		t.Fatalf("template.yaml: got no filter pattern, want one per mapping")
	}
	for _, m := range ms {
		if got := strings.TrimSpace(m[1]); got != TTLFilterPattern {
			t.Errorf("template.yaml pattern: got %s, want %s", got, TTLFilterPattern)
		}
	}
}
