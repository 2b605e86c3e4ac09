package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// AthenaAPI is the part of the Athena client an AthenaCounter uses.
type AthenaAPI interface {
	StartQueryExecution(ctx context.Context, params *athena.StartQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, params *athena.GetQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, params *athena.GetQueryResultsInput, optFns ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
}

var _ AthenaAPI = (*athena.Client)(nil)

// The stack's Athena names (template.yaml's defaults).
const (
	DefaultDatabase  = "ttl_archive"
	DefaultGlueTable = "expired_items"
)

// AthenaCounter counts the archive through the stack's Glue table, for
// archives too big to stream: one query, COUNT(DISTINCT event_id) grouped
// by table, region, day and hour, restricted by the partition columns
// table_name and dt. Lines without an event_id or a deleted_at are counted
// apart and returned as a Problem.
type AthenaCounter struct {
	Client    AthenaAPI
	WorkGroup string // the stack's workgroup, which sets the result location
	Database  string // DefaultDatabase when empty
	Table     string // DefaultGlueTable when empty
	// Poll is how often the query's state is read (1 s when zero).
	Poll time.Duration
}

// ErrNoTables is returned by AthenaCounter.Count for a query that names
// no table: partition projection of table_name needs every query to name
// the tables.
var ErrNoTables = errors.New("athena: name the tables to count (--source-table): the Glue table's table_name partition is injected")

// CountSQL returns the query that AthenaCounter runs for q.
func CountSQL(database, table string, q Query) string {
	var b strings.Builder
	b.WriteString("SELECT table_name, region, dt, hour(try(from_iso8601_timestamp(deleted_at))) AS hour,\n")
	b.WriteString("       count(DISTINCT event_id) AS archived,\n")
	b.WriteString("       count_if(event_id IS NULL OR deleted_at IS NULL) AS unreadable\n")
	fmt.Fprintf(&b, "FROM %s.%s\n", quoteIdent(database), quoteIdent(table))
	b.WriteString("WHERE table_name IN (")
	for i, t := range q.Tables {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteString(t))
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, "  AND dt BETWEEN %s AND %s\n", quoteString(q.Since.Format(time.DateOnly)), quoteString(q.Until.Format(time.DateOnly)))
	b.WriteString("GROUP BY 1, 2, 3, 4\n")
	b.WriteString("ORDER BY 1, 2, 3, 4")
	return b.String()
}

func quoteIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Count runs CountSQL in the workgroup and reads its result.
func (c *AthenaCounter) Count(ctx context.Context, q Query) (Counts, []Problem, error) {
	if len(q.Tables) == 0 {
		return nil, nil, ErrNoTables
	}
	db, tbl := c.Database, c.Table
	if db == "" {
		db = DefaultDatabase
	}
	if tbl == "" {
		tbl = DefaultGlueTable
	}
	sql := CountSQL(db, tbl, q)
	start, err := c.Client.StartQueryExecution(ctx, &athena.StartQueryExecutionInput{
		QueryString:           aws.String(sql),
		WorkGroup:             nonEmpty(c.WorkGroup),
		QueryExecutionContext: &athenatypes.QueryExecutionContext{Database: aws.String(db)},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("athena:StartQueryExecution in workgroup %s: %w", c.WorkGroup, err)
	}
	id := aws.ToString(start.QueryExecutionId)
	if err := c.wait(ctx, id); err != nil {
		return nil, nil, err
	}
	counts := Counts{}
	var problems []Problem
	p := athena.NewGetQueryResultsPaginator(c.Client, &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id)})
	header := true
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("athena:GetQueryResults %s: %w", id, err)
		}
		if page.ResultSet == nil {
			continue
		}
		for _, row := range page.ResultSet.Rows {
			if header { // the first row of the first page names the columns
				header = false
				continue
			}
			if err := addResultRow(counts, &problems, row, id); err != nil {
				return nil, nil, err
			}
		}
	}
	return counts, problems, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// wait polls the query until it ends; a query that did not succeed is an
// error with Athena's reason.
func (c *AthenaCounter) wait(ctx context.Context, id string) error {
	poll := c.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		out, err := c.Client.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			return fmt.Errorf("athena:GetQueryExecution %s: %w", id, err)
		}
		var st *athenatypes.QueryExecutionStatus
		if out.QueryExecution != nil {
			st = out.QueryExecution.Status
		}
		if st == nil {
			return fmt.Errorf("athena:GetQueryExecution %s: no status", id)
		}
		switch st.State {
		case athenatypes.QueryExecutionStateSucceeded:
			return nil
		case athenatypes.QueryExecutionStateFailed, athenatypes.QueryExecutionStateCancelled:
			return fmt.Errorf("athena query %s %s: %s", id, strings.ToLower(string(st.State)), aws.ToString(st.StateChangeReason))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// addResultRow reads one result row: table_name, region, dt, hour,
// archived, unreadable.
func addResultRow(counts Counts, problems *[]Problem, row athenatypes.Row, id string) error {
	if len(row.Data) != 6 {
		return fmt.Errorf("athena query %s: a result row has %d columns, want 6", id, len(row.Data))
	}
	col := func(i int) string { return aws.ToString(row.Data[i].VarCharValue) }
	table, region, dt, hour := col(0), col(1), col(2), col(3)
	archived, err1 := strconv.ParseInt(col(4), 10, 64)
	unreadable, err2 := strconv.ParseInt(col(5), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("athena query %s: result row %q: %w", id, []string{table, region, dt, hour, col(4), col(5)}, err)
	}
	where := fmt.Sprintf("athena: table_name=%s/dt=%s", table, dt)
	if unreadable > 0 {
		*problems = append(*problems, Problem{Object: where, Error: fmt.Sprintf("%d lines have no event_id or no deleted_at (malformed, or not archive lines)", unreadable)})
	}
	if hour == "" {
		if archived > 0 {
			*problems = append(*problems, Problem{Object: where, Error: fmt.Sprintf("%d lines have a deleted_at that is not an ISO 8601 time", archived)})
		}
		return nil
	}
	h, err := strconv.Atoi(hour)
	if err != nil || h < 0 || h > 23 {
		return fmt.Errorf("athena query %s: hour %q is not 0 to 23", id, hour)
	}
	if _, err := time.Parse(time.DateOnly, dt); err != nil {
		return fmt.Errorf("athena query %s: dt %q is not a day", id, dt)
	}
	k := Key{Table: table, Region: region, Day: dt}
	c := counts[k]
	if c == nil {
		c = &Count{}
		counts[k] = c
	}
	c.Total += archived
	c.Hours[h] += archived
	return nil
}
