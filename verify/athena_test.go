package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/verify"
)

// parseSQL parses sql with node-sql-parser's Athena and Trino grammars
// (package.json pins it; make tools installs it). Without it the test is
// skipped, except with CI set.
func parseSQL(t *testing.T, sql string) map[string]any {
	t.Helper()
	if _, err := os.Stat("../node_modules/node-sql-parser"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("node-sql-parser is not installed: run make tools")
		}
		t.Fatalf("node-sql-parser is not installed (make tools installs it): %v", err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "parse-athena-sql.js"))
	cmd.Stdin = strings.NewReader(sql)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("parse the SQL: %v: %s\n%s", err, errOut.String(), sql)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The count query parses as Athena (Trino) SQL and restricts the scan by
// both partition columns; a table name with a quote stays one value.
func TestCountSQLParses(t *testing.T) {
	q := verify.Query{Tables: []string{"Orders", "O'Brien"}, Since: day0, Until: day0.AddDate(0, 0, 2)}
	sql := verify.CountSQL("ttl_archive", "expired_items", q)
	got := parseSQL(t, sql)
	for _, dialect := range []string{"athena", "trino"} {
		want := map[string]any{
			"from": []any{"ttl_archive.expired_items"},
			"where": []any{
				map[string]any{"column": "table_name", "operator": "IN", "values": []any{"Orders", "O''Brien"}},
				map[string]any{"column": "dt", "operator": "BETWEEN", "values": []any{"2025-11-20", "2025-11-22"}},
			},
			"groupBy": float64(4),
			"columns": float64(6),
		}
		if !reflect.DeepEqual(got[dialect], want) {
			t.Errorf("CountSQL parsed as %s: %v, want %v\n%s", dialect, got[dialect], want, sql)
		}
	}
	if !strings.Contains(sql, "count(DISTINCT event_id)") {
		t.Errorf("CountSQL: no count(DISTINCT event_id):\n%s", sql)
	}
}

// setAthenaResults tells moto what the next query returns (moto's
// /moto-api/static/athena/query-results).
func setAthenaResults(t *testing.T, url string, rows [][]string) {
	t.Helper()
	var rs []map[string]any
	for _, r := range rows {
		var data []map[string]string
		for _, v := range r {
			data = append(data, map[string]string{"VarCharValue": v})
		}
		rs = append(rs, map[string]any{"Data": data})
	}
	body, _ := json.Marshal(map[string]any{
		"account_id": "123456789012", "region": motoserver.Region,
		"results": []any{map[string]any{"rows": rs, "column_info": []any{}}},
	})
	res, err := http.Post(url+"/moto-api/static/athena/query-results", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		t.Fatalf("set moto's Athena results: %s %s", res.Status, b)
	}
}

// The Athena path against moto: the query goes to the stack's workgroup
// and database, and its result rows become counts and problems.
func TestAthenaCounterMoto(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	c := athena.NewFromConfig(srv.Config())
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("ttl-archiver")}); err != nil {
		t.Fatal(err)
	}
	setAthenaResults(t, srv.URL, [][]string{
		{"table_name", "region", "dt", "hour", "archived", "unreadable"},
		{"Orders", "us-east-1", "2025-11-20", "0", "12", "0"},
		{"Orders", "us-east-1", "2025-11-20", "23", "30", "2"},
		{"Orders", "eu-west-1", "2025-11-21", "5", "7", "0"},
	})
	q := verify.Query{Tables: []string{"Orders"}, Since: day0, Until: day0.AddDate(0, 0, 1)}
	counter := &verify.AthenaCounter{Client: c, WorkGroup: "ttl-archiver", Poll: 10e6}
	counts, probs, err := counter.Count(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	east := counts[verify.Key{Table: "Orders", Region: "us-east-1", Day: "2025-11-20"}]
	west := counts[verify.Key{Table: "Orders", Region: "eu-west-1", Day: "2025-11-21"}]
	if len(counts) != 2 || east == nil || east.Total != 42 || east.Hours[0] != 12 || east.Hours[23] != 30 || west == nil || west.Hours[5] != 7 {
		t.Errorf("AthenaCounter.Count: %v, want us-east-1 42 (12 at 0h, 30 at 23h), eu-west-1 7 at 5h", counts)
	}
	if len(probs) != 1 || !strings.Contains(probs[0].Error, "2 lines") {
		t.Errorf("AthenaCounter.Count: problems %v, want one for the 2 unreadable lines", probs)
	}
	// moto keeps the query: it is CountSQL in the stack's workgroup.
	list, err := c.ListQueryExecutions(ctx, &athena.ListQueryExecutionsInput{WorkGroup: aws.String("ttl-archiver")})
	if err != nil || len(list.QueryExecutionIds) != 1 {
		t.Fatalf("ListQueryExecutions: %v, %v; want one query", list, err)
	}
	qe, err := c.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(list.QueryExecutionIds[0])})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(qe.QueryExecution.Query), verify.CountSQL(verify.DefaultDatabase, verify.DefaultGlueTable, q); got != want {
		t.Errorf("query sent:\n%s\nwant:\n%s", got, want)
	}
	if _, _, err := counter.Count(ctx, verify.Query{Since: day0, Until: day0}); !errors.Is(err, verify.ErrNoTables) {
		t.Errorf("AthenaCounter.Count with no tables: %v, want ErrNoTables", err)
	}
}
