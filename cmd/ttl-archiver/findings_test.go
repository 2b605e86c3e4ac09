package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ttl-archiver/ttl-archiver/restore/restoretest"
)

// The tests of this file are the findings of issue 15: each runs the
// command as a user would and checks the table, the files and the exit
// code (see the package comment for the codes).

// plainLine is a json-format archive line of table Orders whose item is
// {"pk": pk, "v": v} plus extra members (JSON text, may be empty).
func plainLine(event, seq, deletedAt, pk, v, extra string) string {
	return fmt.Sprintf(`{"table":"Orders","region":"us-east-1","event_id":%q,"sequence_number":%q,"deleted_at":%q,"keys":{"pk":%q},"item":{"pk":%q,"v":%q%s}}`+"\n",
		event, seq, deletedAt, pk, pk, v, extra)
}

// writeObjects writes each object (name: content) under a new directory.
func writeObjects(t *testing.T, objects map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range objects {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var tableN atomic.Int64

// findingsTable creates a table with key pk (S) in dynalite and returns
// its name and the variables that point the command at it.
func findingsTable(t *testing.T) (string, map[string]string, *dynamodb.Client) {
	t.Helper()
	d := toolDynamo(t)
	name := fmt.Sprintf("Issue15-%d", tableN.Add(1))
	if err := restoretest.CreateTable(context.Background(), d.Client(), name, [2]string{"pk", "S"}); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_ENDPOINT_URL_DYNAMODB": d.URL}
	return name, vars, d.Client()
}

// tableValues returns pk -> v of every item in the table.
func tableValues(t *testing.T, db *dynamodb.Client, table string) map[string]string {
	t.Helper()
	got := map[string]string{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			pk := it["pk"].(*types.AttributeValueMemberS).Value
			v := ""
			if s, ok := it["v"].(*types.AttributeValueMemberS); ok {
				v = s.Value
			}
			got[pk] = v
		}
	}
	return got
}

func wantExit(t *testing.T, args []string, code int, out, errOut string, want int) {
	t.Helper()
	if code != want {
		t.Errorf("ttl-archiver %s: exit code %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
}

// Finding 1: a truncated .gz gave exit 0 and the checkpoint was removed.
func TestTruncatedObjectKeepsCheckpoint(t *testing.T) {
	table, vars, db := findingsTable(t)
	var whole, cut strings.Builder
	for i := range 10 {
		whole.WriteString(plainLine(fmt.Sprintf("a%d", i), fmt.Sprint(i+1), "2025-11-23T10:00:00Z", fmt.Sprintf("a%d", i), "x", ""))
	}
	for i := range 30 {
		cut.WriteString(plainLine(fmt.Sprintf("b%d", i), fmt.Sprint(i+100), "2025-11-23T10:00:00Z", fmt.Sprintf("b%d", i), "x", ""))
	}
	gzCut := gzipped(cut.String())
	dir := writeObjects(t, map[string][]byte{"a.gz": gzipped(whole.String()), "b.gz": gzCut[:len(gzCut)*6/10]})
	cp := filepath.Join(t.TempDir(), "c.ckpt")
	args := []string{"restore", "--from", dir, "--table", table, "--checkpoint", cp}
	code, out, errOut := runTool(t, vars, args...)
	wantExit(t, args, code, out, errOut, exitIncomplete)
	if _, err := os.Stat(cp); err != nil {
		t.Errorf("checkpoint after a restore that could not read b.gz: %v, want the file kept", err)
	}
	if !strings.Contains(errOut, "b.gz") {
		t.Errorf("stderr does not name the unreadable object b.gz:\n%s", errOut)
	}
	if got := len(tableValues(t, db, table)); got < 10 {
		t.Errorf("items written: got %d, want at least the 10 of a.gz", got)
	}
}

// Finding 2: one item DynamoDB refuses stopped the whole restore without
// naming it. Now the others are written and the refused ones are in the
// rejects file, which a later run takes as input.
func TestRefusedItemsGoToRejects(t *testing.T) {
	table, vars, db := findingsTable(t)
	var lines strings.Builder
	for i := range 40 {
		lines.WriteString(plainLine(fmt.Sprintf("e%d", i), fmt.Sprint(i+1), "2025-11-23T10:00:00Z", fmt.Sprintf("k%02d", i), "x", ""))
		if i == 5 {
			// 399 KB of binary: in a json-format archive, 532 KB of base64 text.
			big := base64.StdEncoding.EncodeToString(make([]byte, 399*1024))
			lines.WriteString(plainLine("big", "1000", "2025-11-23T10:00:00Z", "big", "x", fmt.Sprintf(`,"blob":%q`, big)))
		}
	}
	// An item DynamoDB itself refuses: a string set with a duplicate.
	dupSet := `{"table":"Orders","region":"us-east-1","event_id":"dup","sequence_number":"2000","deleted_at":"2025-11-23T10:00:00Z","format":"dynamodb-json",` +
		`"keys":{"pk":{"S":"dup"}},"item":{"pk":{"S":"dup"},"v":{"S":"x"},"tags":{"SS":["a","a"]}}}` + "\n"
	lines.WriteString(dupSet)
	dir := writeObjects(t, map[string][]byte{"o.json": []byte(lines.String())})
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	args := []string{"restore", "--from", dir, "--table", table, "--concurrency", "1", "--rejects", rejects}
	code, out, errOut := runTool(t, vars, args...)
	wantExit(t, args, code, out, errOut, exitIncomplete)
	got := tableValues(t, db, table)
	if len(got) != 40 || got["big"] != "" || got["dup"] != "" {
		t.Errorf("table after restore: %d items (big: %v, dup: %v), want the 40 others only", len(got), got["big"] != "", got["dup"] != "")
	}
	f, err := os.Open(rejects)
	if err != nil {
		t.Fatalf("rejects file: %v", err)
	}
	defer func() { _ = f.Close() }()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 2<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, `{"rejected":{"reason":`) {
			t.Errorf("rejects line does not start with its reason: %.120s", l)
		}
		switch {
		case strings.Contains(l, `"event_id":"big"`) && strings.Contains(l, "item size limit"):
			ids = append(ids, "big")
		case strings.Contains(l, `"event_id":"dup"`) && strings.Contains(l, "ValidationException"):
			ids = append(ids, "dup")
		default:
			t.Errorf("unexpected rejects line: %.300s", l)
		}
	}
	if strings.Join(ids, ",") != "big,dup" {
		t.Errorf("rejected: got %v, want [big dup] with their reasons", ids)
	}
	// The rejects file is an archive a later run reads: the dry run
	// finds both items again (and says they are still refused by size).
	args = []string{"restore", "--from", rejects, "--table", table, "--dry-run"}
	code, out, errOut = runTool(t, vars, args...)
	wantExit(t, args, code, out, errOut, exitIncomplete)
	if !strings.Contains(errOut, "2 items selected") {
		t.Errorf("dry run of the rejects file: stderr lacks %q:\n%s", "2 items selected", errOut)
	}
}

// versionsArchive holds 30 keys deleted twice. The newer version (v =
// "new") is in an object read before the older one, and half the keys
// have the same deleted_at, where the sequence numbers decide as numbers
// ("10" is newer than "9").
func versionsArchive(t *testing.T) string {
	var a, b strings.Builder
	for i := range 30 {
		pk := fmt.Sprintf("k%02d", i)
		newAt, oldAt, newSeq, oldSeq := "2025-11-24T10:00:00Z", "2025-11-23T10:00:00Z", "5", "7"
		if i%2 == 1 {
			newAt, oldAt, newSeq, oldSeq = "2025-11-23T10:00:00Z", "2025-11-23T10:00:00Z", "10"+fmt.Sprint(i), "9"+fmt.Sprint(i)
		}
		a.WriteString(plainLine("new"+pk, newSeq, newAt, pk, "new", ""))
		b.WriteString(plainLine("old"+pk, oldSeq, oldAt, pk, "old", ""))
	}
	return writeObjects(t, map[string][]byte{"a.json": []byte(a.String()), "b.json": []byte(b.String())})
}

// Findings 3 and 4: the older version of a key deleted twice could win,
// and --no-overwrite always kept the older version.
func TestNewestVersionWins(t *testing.T) {
	dir := versionsArchive(t)
	tests := []struct {
		name  string
		extra []string
	}{
		{"concurrency 16", []string{"--concurrency", "16"}},
		{"concurrency 1", []string{"--concurrency", "1"}},
		{"no overwrite", []string{"--no-overwrite", "--concurrency", "16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, vars, db := findingsTable(t)
			// An item the table already has stays, with --no-overwrite.
			if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table),
				Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k00"}, "v": &types.AttributeValueMemberS{Value: "had"}}}); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"restore", "--from", dir, "--table", table}, tt.extra...)
			code, out, errOut := runTool(t, vars, args...)
			wantExit(t, args, code, out, errOut, exitOK)
			got := tableValues(t, db, table)
			for i := range 30 {
				pk := fmt.Sprintf("k%02d", i)
				want := "new"
				if pk == "k00" && tt.name == "no overwrite" {
					want = "had"
				}
				if got[pk] != want {
					t.Errorf("%s after restore: got v=%q, want %q", pk, got[pk], want)
				}
			}
		})
	}
}

// Finding 5: export-import wrote both versions of a key, items over 400
// KB, and exited 0 with a ready-to-run import command when items were
// left out.
func TestExportImportFindings(t *testing.T) {
	big := base64.StdEncoding.EncodeToString(make([]byte, 340*1024)) // 450 KB of text
	var two strings.Builder
	two.WriteString(plainLine("o1", "1", "2025-11-23T10:00:00Z", "a", "x", ""))
	two.WriteString(strings.Replace(plainLine("s1", "2", "2025-11-23T10:00:00Z", "s", "x", ""), `"table":"Orders"`, `"table":"Sessions"`, 1))
	tests := []struct {
		name      string
		objects   map[string][]byte
		extra     []string
		wantCode  int
		wantLines int    // in the import files
		want      string // in stdout+stderr
	}{
		{"one line per key", map[string][]byte{"v.json": []byte(
			plainLine("n", "10", "2025-11-24T10:00:00Z", "a", "new", "") + plainLine("o", "9", "2025-11-23T10:00:00Z", "a", "old", ""))},
			[]string{"--source-table", "Orders"}, exitOK, 1, "aws dynamodb import-table"},
		{"item over 400 KB", map[string][]byte{"b.json": []byte(
			plainLine("big", "1", "2025-11-23T10:00:00Z", "big", "x", fmt.Sprintf(`,"blob":%q`, big)) + plainLine("ok", "2", "2025-11-23T10:00:00Z", "ok", "x", ""))},
			[]string{"--source-table", "Orders"}, exitIncomplete, 1, "1 items are over 400 KB"},
		{"several tables", map[string][]byte{"t.json": []byte(two.String())}, nil, exitUsage, 0, "Orders, Sessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeObjects(t, tt.objects)
			to := filepath.Join(t.TempDir(), "import")
			args := append([]string{"export-import", "--from", dir, "--to", to, "--rejects", filepath.Join(t.TempDir(), "r.jsonl")}, tt.extra...)
			code, out, errOut := runTool(t, map[string]string{"AWS_REGION": "eu-west-1"}, args...)
			wantExit(t, args, code, out, errOut, tt.wantCode)
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tt.want, out, errOut)
			}
			if tt.wantCode != exitOK && strings.Contains(out, "import-table") {
				t.Errorf("an incomplete export printed the import command:\n%s", out)
			}
			n := 0
			if f, err := os.Open(filepath.Join(to, "part-00000.json.gz")); err == nil {
				n = len(readImportLines(t, f))
				_ = f.Close()
			}
			if n != tt.wantLines {
				t.Errorf("import lines: got %d, want %d", n, tt.wantLines)
			}
		})
	}
}

// Finding 6: restore exited 0 when it skipped malformed lines, with
// --dry-run or not.
func TestMalformedLinesExitNonZero(t *testing.T) {
	table, vars, _ := findingsTable(t)
	data := plainLine("e1", "1", "2025-11-23T10:00:00Z", "a", "x", "") + "{not an archive line\n" + plainLine("e2", "2", "2025-11-23T10:00:00Z", "b", "x", "")
	dir := writeObjects(t, map[string][]byte{"m.json": []byte(data)})
	for _, extra := range [][]string{{"--dry-run"}, nil} {
		args := append([]string{"restore", "--from", dir, "--table", table}, extra...)
		code, out, errOut := runTool(t, vars, args...)
		wantExit(t, args, code, out, errOut, exitIncomplete)
		if !strings.Contains(errOut, "1 lines are not archive lines") {
			t.Errorf("%v: stderr lacks the count of malformed lines:\n%s", args, errOut)
		}
	}
}

// readImportLines returns the lines of a gzipped import file.
func readImportLines(t *testing.T, r io.Reader) []string {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}
