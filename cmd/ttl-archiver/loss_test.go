package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ttl-archiver/ttl-archiver/restore/restoretest"
)

// Issue 23, finding 2 (through the built binary): links and dot-named entries in a local archive are
// read or named, never passed over with exit 0.
func TestCatLinksAndDotNames(t *testing.T) {
	dir := demoArchive(t)
	bucket := filepath.Join(dir, "buckets", "ttl-archive-local")
	elsewhere := t.TempDir()
	line := `{"table":"Orders","region":"us-east-1","event_id":"e1","sequence_number":"1","deleted_at":"2025-11-23T00:00:01Z","keys":{"pk":"x"},"item":{"pk":"x"}}` + "\n"
	if err := os.WriteFile(filepath.Join(elsewhere, "linked"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bucket, ".dot"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "linked"), filepath.Join(bucket, "file-link")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runBinary(t, nil, "cat", "--count", bucket)
	if code != 0 || out != "7\n" {
		t.Errorf("cat --count with a dot-named file and a link to a file: exit %d, %q, want 0 and 7 (5 + both read); stderr %s", code, out, errOut)
	}
	if err := os.Symlink(elsewhere, filepath.Join(bucket, "folder-link")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runBinary(t, nil, "cat", "--count", bucket)
	if code != 3 || !strings.Contains(errOut, "folder-link: not read: a symbolic link to a folder") {
		t.Errorf("cat --count with a link to a folder: exit %d, stdout %q, want 3 naming it; stderr %s", code, out, errOut)
	}
	link := filepath.Join(t.TempDir(), "archive")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runBinary(t, nil, "cat", "--count", link); code != 0 || out != "1\n" {
		t.Errorf("cat --count on a location that is a link to a folder: exit %d, %q, want 0 and 1; stderr %s", code, out, errOut)
	}
}

// Issue 23, finding 3: Firehose's error-prefix objects are read as the
// archive lines they carry, by cat and by restore.
func TestErrorPrefixObjectsRead(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 3 {
		lines = append(lines, fmt.Sprintf(archiveLine, i, i, i, i))
	}
	rec := func(data string) string {
		return fmt.Sprintf(`{"attemptsMade":1,"errorCode":"DynamicPartitioning.PartitionCountExceeded","errorMessage":"x","rawData":%q}`+"\n", base64.StdEncoding.EncodeToString([]byte(data)))
	}
	content := rec(lines[0]) + rec(lines[1]+lines[2]) // the second packs two lines
	if err := os.MkdirAll(filepath.Join(dir, "errors", "DynamicPartitioning.PartitionCountExceeded", "2025-11-23"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "errors", "DynamicPartitioning.PartitionCountExceeded", "2025-11-23", "x.gz"), gzipped(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runBinary(t, nil, "cat", "--count", "--source-table", "Orders", dir); code != 0 || out != "3\n" {
		t.Errorf("cat --count on an error prefix: exit %d, %q, want 0 and 3; stderr %s", code, out, errOut)
	}
	vars := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:1"}
	code, _, errOut := runBinary(t, vars, "restore", "--from", dir, "--table", "Orders", "--dry-run")
	if code != 0 || !strings.Contains(errOut, "dry run: 3 items would be written") {
		t.Errorf("restore --dry-run on an error prefix: exit %d, want 0 and 3 items; stderr %s", code, errOut)
	}
}

// Issue 23, findings 4, 10, 11 and 12: restore and export-import say what
// they could not save or write, before writing, and never claim saved
// progress they do not have.
func TestRestoreHonestAboutFiles(t *testing.T) {
	d := toolDynamo(t)
	ctx := context.Background()
	db := d.Client()
	if err := restoretest.CreateTable(ctx, db, "Honest", [2]string{"pk", "S"}); err != nil {
		t.Fatal(err)
	}
	arch := t.TempDir()
	var lines strings.Builder
	for i := range 5 {
		fmt.Fprintf(&lines, archiveLine, i, i, i, i)
	}
	if err := os.WriteFile(filepath.Join(arch, "x"), []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_ENDPOINT_URL_DYNAMODB": d.URL}
	aFile := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	aDir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // the last line of stderr contains it
	}{
		{"checkpoint can't be read", []string{"--checkpoint", aDir}, 1, "read checkpoint"},
		{"checkpoint can't be written", []string{"--checkpoint", filepath.Join(aFile, "cp")}, 1, filepath.Join(aFile, "cp")},
		{"rejects file can't be written", []string{"--rejects", filepath.Join(aFile, "rejects")}, 1, "rejects file: can't write " + filepath.Join(aFile, "rejects")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"restore", "--from", arch, "--table", "Honest"}, tt.args...)
			code, _, errOut := runBinary(t, vars, args...)
			last := strings.TrimSpace(errOut)
			if i := strings.LastIndex(last, "\n"); i >= 0 {
				last = last[i+1:]
			}
			if code != tt.wantCode || !strings.Contains(last, tt.want) || strings.Contains(errOut, "progress is saved") {
				t.Errorf("%v: exit %d, last line %q; want %d, %q, and no claim of saved progress\n%s", args, code, last, tt.wantCode, tt.want, errOut)
			}
			out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Honest")})
			if err != nil || len(out.Items) != 0 {
				t.Errorf("%v: the table has %d items (%v), want none written before the failure", args, len(out.Items), err)
			}
		})
	}
	// A checkpoint of another selection is refused, exit 2.
	cp := filepath.Join(t.TempDir(), "cp")
	if err := os.WriteFile(cp, []byte(`{"version":2,"source":"`+arch+`","table":"Honest","filter":"table Other","done":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runBinary(t, vars, "restore", "--from", arch, "--table", "Honest", "--checkpoint", cp, "--source-table", "Orders"); code != 2 || !strings.Contains(errOut, "of table Other, not of table Orders") {
		t.Errorf("restore with another selection's checkpoint: exit %d, want 2 naming both; stderr %s", code, errOut)
	}
	// export-import --to inside --from is refused up front, exit 2.
	if code, _, errOut := runBinary(t, vars, "export-import", "--from", arch, "--to", filepath.Join(arch, "import")); code != 2 || !strings.Contains(errOut, "inside --from") {
		t.Errorf("export-import --to inside --from: exit %d, want 2; stderr %s", code, errOut)
	}
}
