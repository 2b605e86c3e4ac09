package samtemplate_test

// Checks of the daily check in template.yaml (issue 21 §2): a schedule
// runs DailyCheckFunction once a day, after verify's settle time; the
// function's environment names every table the stack archives; its role
// and the schedule's grant exactly what they need; every archived table
// has a missing-items alarm that takes silence as a failure; the Athena
// workgroup's results stay outside the archive.

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
	"github.com/ttl-archiver/ttl-archiver/verify"
)

const (
	dailyCheck         = "DailyCheckFunction"
	testDemoTableName  = "ttl-archiver-DemoTable-1ABC"
	testArchiveBucket  = "archive-bucket"
	testArchiveBuckARN = "arn:aws:s3:::archive-bucket"
)

// deployed sets what a deployment returns for every resource, so that
// ARNs and names resolve to text: "ref-ID" and "arn:TYPE:ID", with real
// shapes for the bucket, the demo table and the check's log group.
func deployed(r *samtemplate.Resolver) *samtemplate.Resolver {
	for id, res := range r.Template().Resources {
		r.Refs[id] = "ref-" + id
		for _, attr := range []string{"Arn", "StreamArn"} {
			r.Attrs[id+"."+attr] = "arn:" + res.Type + ":" + id
		}
	}
	r.Refs["ArchiveBucket"] = testArchiveBucket
	r.Attrs["ArchiveBucket.Arn"] = testArchiveBuckARN
	r.Refs["DemoTable"] = testDemoTableName
	r.Attrs["DailyCheckLogGroup.Arn"] = "arn:aws:logs:eu-west-1:210987654321:log-group:/ttl-archiver/ttl-archiver/daily-check:*"
	return r
}

// dailyCheckEnv returns the check function's environment, resolved.
func dailyCheckEnv(t *testing.T, r *samtemplate.Resolver) map[string]string {
	t.Helper()
	fn, ok := r.Template().Resources[dailyCheck]
	if !ok {
		t.Fatalf("no %s", dailyCheck)
	}
	vars, _ := samtemplate.Lookup(props(t, r, fn), "Environment", "Variables")
	env := map[string]string{}
	for k, v := range vars.(map[string]any) {
		s, err := r.String(v)
		if err != nil {
			t.Fatalf("%s environment %s: %v", dailyCheck, k, err)
		}
		env[k] = s
	}
	return env
}

func TestDailyCheckFunction(t *testing.T) {
	tpl := loadTemplate(t)
	fn, ok := tpl.Resources[dailyCheck]
	if !ok || fn.Type != "AWS::Serverless::Function" {
		t.Fatalf("%s = %+v, want an AWS::Serverless::Function", dailyCheck, fn)
	}
	if got := fn.Metadata["BuildMethod"]; got != "makefile" {
		t.Errorf("Metadata.BuildMethod = %v, want makefile", got)
	}
	r := newResolver(t, tpl, nil)
	p := props(t, r, fn)
	for k, v := range map[string]any{
		"CodeUri": ".", "Handler": "bootstrap", "Runtime": "provided.al2023", "Architectures": []any{"arm64"},
		"MemorySize": 1769, "Timeout": 900,
	} {
		if !reflect.DeepEqual(p[k], v) {
			t.Errorf("%s %s = %#v, want %#v", dailyCheck, k, p[k], v)
		}
	}
	if role, _ := samtemplate.Lookup(p, "Role", "Fn::GetAtt"); !reflect.DeepEqual(role, []any{"DailyCheckFunctionRole", "Arn"}) {
		t.Errorf("%s Role = %v, want its own DailyCheckFunctionRole", dailyCheck, p["Role"])
	}
	// Its own log group, kept as long as the stack's other logs.
	group, _ := samtemplate.Lookup(p, "LoggingConfig", "LogGroup")
	name, _ := samtemplate.RefName(group)
	lg, ok := tpl.Resources[name]
	if !ok || lg.Type != "AWS::Logs::LogGroup" || name == "ArchiverLogGroup" {
		t.Fatalf("%s logs to %v, want a log group of its own", dailyCheck, group)
	}
	if ret, _ := samtemplate.RefName(lg.Properties["RetentionInDays"]); ret != "LogRetentionDays" {
		t.Errorf("%s RetentionInDays = %v, want !Ref LogRetentionDays", name, lg.Properties["RetentionInDays"])
	}
	if v, _ := samtemplate.Lookup(p, "LoggingConfig", "LogFormat"); v != "JSON" {
		t.Errorf("LoggingConfig.LogFormat = %v, want JSON (the EMF lines are JSON objects)", v)
	}

	// SAM builds it with `make build-DailyCheckFunction`, from its package.
	mk, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	target := regexp.MustCompile(`(?m)^build-DailyCheckFunction:.*\n\t.*GOARCH=arm64 CGO_ENABLED=0 .*-tags lambda\.norpc .*-o \$\(ARTIFACTS_DIR\)/bootstrap \./function/dailycheck$`)
	if !target.Match(mk) {
		t.Error("the Makefile has no build-DailyCheckFunction target building ./function/dailycheck for arm64 into $(ARTIFACTS_DIR)/bootstrap")
	}

	// The settings: defaults the function accepts, values it refuses.
	env := dailyCheckEnv(t, deployed(newResolver(t, tpl, map[string]string{"CreateDemoTable": "true"})))
	want := map[string]string{
		"READER": "auto", "DAYS": "3", "STREAM_LIMIT_BYTES": strconv.FormatInt(verify.DefaultStreamLimitBytes, 10),
		"ARCHIVE_BUCKET": testArchiveBucket, "ARCHIVE_PREFIX": "archive/",
		"ATHENA_WORKGROUP": "ref-DailyCheckWorkGroup", "GLUE_DATABASE": "ref-ArchiveDatabase", "GLUE_TABLE": "ref-ArchiveTable",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s %s = %q, want %q", dailyCheck, k, env[k], v)
		}
	}
	for _, c := range []struct {
		param     string
		good, bad []string
	}{
		{"DailyCheckReader", []string{verify.ReaderAuto, verify.ReaderS3, verify.ReaderAthena}, []string{"", "glue", "S3"}},
		{"DailyCheckDays", []string{"1", "3", "14"}, []string{"0", "15", "-1"}},
	} {
		p, ok := tpl.Parameters[c.param]
		if !ok {
			t.Errorf("no parameter %s", c.param)
			continue
		}
		for _, v := range c.good {
			if err := p.Check(v); err != nil {
				t.Errorf("%s rejects %q: %v", c.param, v, err)
			}
		}
		for _, v := range c.bad {
			if err := p.Check(v); err == nil {
				t.Errorf("%s accepts %q, which the function rejects at start", c.param, v)
			}
		}
	}
}

func TestDailyCheckSchedule(t *testing.T) {
	tpl := loadTemplate(t)
	r := deployed(newResolver(t, tpl, allOn()))
	schedules := existing(t, r, "AWS::Scheduler::Schedule")
	if len(schedules) != 1 {
		t.Fatalf("%d schedules, want 1", len(schedules))
	}
	p := props(t, r, schedules[0])
	target, _ := p["Target"].(map[string]any)
	if target["Arn"] != r.Attrs[dailyCheck+".Arn"] {
		t.Errorf("the schedule targets %v, want !GetAtt %s.Arn", target["Arn"], dailyCheck)
	}
	if p["State"] != "ENABLED" {
		t.Errorf("schedule State = %v, want ENABLED", p["State"])
	}
	if mode, _ := samtemplate.Lookup(p, "FlexibleTimeWindow", "Mode"); mode != "OFF" {
		t.Errorf("FlexibleTimeWindow.Mode = %v, want OFF (the alarm expects a datapoint each day at the same time)", mode)
	}
	if tz, ok := p["ScheduleExpressionTimezone"]; ok && tz != "UTC" {
		t.Errorf("ScheduleExpressionTimezone = %v, want UTC (the check's days are UTC days)", tz)
	}
	// Daily: cron(MIN HOUR * * ? *), at an hour when yesterday has settled.
	expr := fmt.Sprint(p["ScheduleExpression"])
	m := regexp.MustCompile(`^cron\(([0-9]|[1-5][0-9]) ([0-9]|1[0-9]|2[0-3]) \* \* \? \*\)$`).FindStringSubmatch(expr)
	if m == nil {
		t.Fatalf("ScheduleExpression %q, want once a day: cron(MIN HOUR * * ? *)", expr)
	}
	hour, _ := strconv.Atoi(m[2])
	if at := time.Duration(hour) * time.Hour; at < verify.DefaultSettle {
		t.Errorf("the check runs at %02d:%s UTC, before yesterday settles (%v after midnight): it would be pending", hour, m[1], verify.DefaultSettle)
	}
	if n, _ := samtemplate.Lookup(target, "RetryPolicy", "MaximumRetryAttempts"); n == nil || fmt.Sprint(n) == "0" {
		t.Errorf("RetryPolicy.MaximumRetryAttempts = %v, want retries", n)
	}
	// Its role may invoke that function, and nothing else.
	roleID := strings.TrimPrefix(fmt.Sprint(target["RoleArn"]), "arn:AWS::IAM::Role:")
	if target["RoleArn"] != r.Attrs[roleID+".Arn"] || tpl.Resources[roleID].Type != "AWS::IAM::Role" {
		t.Fatalf("the schedule's RoleArn %v is not a role of the stack", target["RoleArn"])
	}
	if trust := trustedService(t, r, roleID); trust != "scheduler.amazonaws.com" {
		t.Errorf("%s is assumed by %s, want scheduler.amazonaws.com", roleID, trust)
	}
	if got, want := grants(t, r, roleID), []string{"lambda:InvokeFunction on arn:AWS::Serverless::Function:" + dailyCheck}; !slices.Equal(got, want) {
		t.Errorf("%s grants %q, want %q", roleID, got, want)
	}
}

// trustedService returns the one service that may assume a role.
func trustedService(t *testing.T, r *samtemplate.Resolver, roleID string) string {
	t.Helper()
	p := props(t, r, r.Template().Resources[roleID])
	st, _ := samtemplate.Lookup(p, "AssumeRolePolicyDocument", "Statement")
	if list, _ := st.([]any); len(list) != 1 {
		t.Fatalf("%s trust policy %v, want one statement", roleID, st)
	}
	svc, _ := samtemplate.Lookup(st, "0", "Principal", "Service")
	return fmt.Sprint(svc)
}

// grants returns every "action on resource [if condition]" a role's
// policies allow, sorted, and fails the test for anything but Allow with
// Action and Resource.
func grants(t *testing.T, r *samtemplate.Resolver, roleID string) []string {
	t.Helper()
	var out []string
	for _, s := range statements(t, r)[roleID] {
		for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
			if _, ok := s[k]; ok {
				t.Errorf("%s statement %v uses %s", roleID, s["Sid"], k)
			}
		}
		if s["Effect"] != "Allow" {
			t.Errorf("%s statement %v has Effect %v", roleID, s["Sid"], s["Effect"])
		}
		cond := ""
		if c, ok := s["Condition"]; ok {
			cond = " if " + strings.Join(asStrings(c), " ")
		}
		for _, a := range asStrings(s["Action"]) {
			for _, res := range asStrings(s["Resource"]) {
				out = append(out, a+" on "+res+cond)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestDailyCheckRoleLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t)
	const (
		logs      = "arn:aws:logs:eu-west-1:210987654321:log-group:/ttl-archiver/ttl-archiver/daily-check:*"
		workgroup = "arn:aws:athena:eu-west-1:210987654321:workgroup/ref-DailyCheckWorkGroup"
		glue      = "arn:aws:glue:eu-west-1:210987654321:"
	)
	stream := func(prefix string) []string {
		return []string{
			"cloudwatch:GetMetricData on *",
			"logs:CreateLogStream on " + logs,
			"logs:PutLogEvents on " + logs,
			"s3:GetObject on " + testArchiveBuckARN + "/" + prefix + "*",
			`s3:ListBucket on ` + testArchiveBuckARN + ` if {"StringLike":{"s3:prefix":"` + prefix + `*"}}`,
		}
	}
	// Tracing=Active (the default): X-Ray writes, which have no
	// resource-level permissions.
	xray := []string{"xray:PutTelemetryRecords on *", "xray:PutTraceSegments on *"}
	athena := []string{
		"athena:GetQueryExecution on " + workgroup,
		"athena:GetQueryResults on " + workgroup,
		"athena:StartQueryExecution on " + workgroup,
		"glue:GetDatabase on " + glue + "catalog",
		"glue:GetDatabase on " + glue + "database/ref-ArchiveDatabase",
		"glue:GetDatabase on " + glue + "table/ref-ArchiveDatabase/ref-ArchiveTable",
		"glue:GetPartitions on " + glue + "catalog",
		"glue:GetPartitions on " + glue + "database/ref-ArchiveDatabase",
		"glue:GetPartitions on " + glue + "table/ref-ArchiveDatabase/ref-ArchiveTable",
		"glue:GetTable on " + glue + "catalog",
		"glue:GetTable on " + glue + "database/ref-ArchiveDatabase",
		"glue:GetTable on " + glue + "table/ref-ArchiveDatabase/ref-ArchiveTable",
		"s3:AbortMultipartUpload on " + testArchiveBuckARN + "/athena=results/*",
		"s3:GetBucketLocation on " + testArchiveBuckARN,
		"s3:GetObject on " + testArchiveBuckARN + "/athena=results/*",
		`s3:ListBucket on ` + testArchiveBuckARN + ` if {"StringLike":{"s3:prefix":"athena=results/*"}}`,
		"s3:PutObject on " + testArchiveBuckARN + "/athena=results/*",
	}
	for _, c := range []struct {
		name   string
		params map[string]string
		want   []string
	}{
		{"defaults (auto)", nil, slices.Concat(stream("archive/"), athena, xray)},
		{"all on, athena", merge(allOn(), map[string]string{"DailyCheckReader": "athena"}), slices.Concat(stream("archive/"), athena, xray)},
		{"another prefix", map[string]string{"ArchivePrefix": "ttl/data/"}, slices.Concat(stream("ttl/data/"), athena, xray)},
		{"s3 only: no Athena, Glue or results", map[string]string{"DailyCheckReader": "s3"}, slices.Concat(stream("archive/"), xray)},
		{"no tracing: no X-Ray", map[string]string{"DailyCheckReader": "s3", "Tracing": "PassThrough"}, stream("archive/")},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := deployed(newResolver(t, tpl, c.params))
			if trust := trustedService(t, r, "DailyCheckFunctionRole"); trust != "lambda.amazonaws.com" {
				t.Errorf("DailyCheckFunctionRole is assumed by %s, want lambda.amazonaws.com", trust)
			}
			got := grants(t, r, "DailyCheckFunctionRole")
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("DailyCheckFunctionRole grants\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			for _, g := range got {
				action, resource, _ := strings.Cut(g, " on ")
				if strings.Contains(action, "*") {
					t.Errorf("DailyCheckFunctionRole allows %s", action)
				}
				if strings.HasPrefix(resource, "*") && action != "cloudwatch:GetMetricData" && !strings.HasPrefix(action, "xray:Put") {
					t.Errorf("DailyCheckFunctionRole allows %s on every resource; only GetMetricData, which has no resource-level permissions, may", action)
				}
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]string{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// archivedTables returns the names of the tables the archiver reads: the
// tables of the event source mappings' streams (the demo table's stream
// by the table's deployed name).
func archivedTables(t *testing.T, r *samtemplate.Resolver) []string {
	t.Helper()
	var out []string
	for _, m := range existing(t, r, "AWS::Lambda::EventSourceMapping") {
		if ga, ok := samtemplate.Lookup(m.Properties, "EventSourceArn", "Fn::GetAtt"); ok {
			out = append(out, r.Refs[fmt.Sprint(ga.([]any)[0])])
			continue
		}
		out = append(out, tableName(fmt.Sprint(props(t, r, m)["EventSourceArn"])))
	}
	slices.Sort(out)
	return out
}

// checkedTables returns the tables the check function's environment
// names, as function/dailycheck reads it: the part after "table/" of each
// TABLE_STREAM_ARNS entry, and DEMO_TABLE.
func checkedTables(env map[string]string) []string {
	var out []string
	if v := env["TABLE_STREAM_ARNS"]; v != "" {
		for _, arn := range strings.Split(v, ",") {
			_, rest, _ := strings.Cut(arn, ":table/")
			name, _, _ := strings.Cut(rest, "/")
			out = append(out, name)
		}
	}
	if v := env["DEMO_TABLE"]; v != "" {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func TestDailyCheckCoversEveryTable(t *testing.T) {
	tpl := loadTemplate(t)
	two := strings.Join(testStreamARNs[:2], ",")
	for _, c := range []struct {
		name   string
		params map[string]string
		want   []string
	}{
		{"two streams", map[string]string{"TableStreamArns": two}, []string{"Orders", "Sessions"}},
		{"two streams and the demo table", map[string]string{"TableStreamArns": two, "CreateDemoTable": "true"}, []string{"Orders", "Sessions", testDemoTableName}},
		{"the demo table only", map[string]string{"CreateDemoTable": "true"}, []string{testDemoTableName}},
		{"every test table and the demo", allOn(), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := deployed(newResolver(t, tpl, c.params))
			archived := archivedTables(t, r)
			if c.want != nil {
				want := slices.Clone(c.want)
				slices.Sort(want)
				if !slices.Equal(archived, want) {
					t.Fatalf("the archiver reads %v, want %v", archived, want)
				}
			}
			if got := checkedTables(dailyCheckEnv(t, r)); !slices.Equal(got, archived) {
				t.Errorf("the daily check checks %v, the archiver archives %v", got, archived)
			}
		})
	}
	// And where the archive is: the Firehose stream's prefix.
	for _, prefix := range []string{"archive/", "ttl/data/", "a/b/c/"} {
		params := map[string]string{"CreateDemoTable": "true", "ArchivePrefix": prefix}
		d, err := samtemplate.FirehoseDelivery(tpl, params)
		if err != nil {
			t.Fatal(err)
		}
		env := dailyCheckEnv(t, deployed(newResolver(t, tpl, params)))
		if want := env["ARCHIVE_PREFIX"] + "table=!{partitionKeyFromQuery:table}/dt=!{partitionKeyFromQuery:dt}/"; d.Prefix != want {
			t.Errorf("ArchivePrefix=%q: Firehose writes under %q, the check reads %q", prefix, d.Prefix, want)
		}
	}
}

func TestDailyCheckAlarms(t *testing.T) {
	tpl := loadTemplate(t)
	two := map[string]string{"TableStreamArns": strings.Join(testStreamARNs[:2], ","), "CreateDemoTable": "true"}
	t.Run("with alarm topics", func(t *testing.T) {
		checkDailyCheckAlarms(t, deployed(newResolver(t, tpl, merge(allOn(), two))), []any{testTopicARN, "ref-AlarmTopic"})
	})
	t.Run("without", func(t *testing.T) {
		checkDailyCheckAlarms(t, deployed(newResolver(t, tpl, two)), []any{})
	})
}

// checkDailyCheckAlarms checks, for every table the archiver reads, one
// missing-items alarm and one gap alarm, and one alarm on the check's
// errors, each notifying actions.
func checkDailyCheckAlarms(t *testing.T, r *samtemplate.Resolver, actions []any) {
	t.Helper()
	tables := archivedTables(t, r)
	missing := map[string]int{} // table: missing-items alarms
	gaps := map[string]int{}    // table: gap alarms
	errorsAlarms := 0
	for _, a := range existing(t, r, "AWS::CloudWatch::Alarm") {
		p := props(t, r, a)
		if p["MetricName"] == verify.MetricMissingItems {
			dim, _ := samtemplate.Lookup(p, "Dimensions", "0")
			d, _ := dim.(map[string]any)
			missing[fmt.Sprint(d["Value"])]++
			if dims, _ := p["Dimensions"].([]any); len(dims) != 1 || d["Name"] != "TableName" {
				t.Errorf("%s dimensions %v, want TableName only, as the check writes it", a.LogicalID, p["Dimensions"])
			}
			want := map[string]any{
				"Namespace": archive.MetricsNamespace, "Statistic": "Maximum", "Threshold": 0, "EvaluationPeriods": 1,
				"ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "breaching",
			}
			for k, v := range want {
				if !reflect.DeepEqual(p[k], v) {
					t.Errorf("%s %s = %#v, want %#v", a.LogicalID, k, p[k], v)
				}
			}
			// A day, with room for the run's minutes: a datapoint is always
			// in the window while the check runs daily.
			if period, _ := strconv.Atoi(fmt.Sprint(p["Period"])); period < 86400 || period > 2*86400 {
				t.Errorf("%s Period = %v, want a day to two", a.LogicalID, p["Period"])
			}
			checkAlarmActions(t, a.LogicalID, p, actions)
		}
		if table, ok := gapAlarmTable(t, p); ok {
			gaps[table]++
			checkAlarmActions(t, a.LogicalID, p, actions)
		}
		if p["Namespace"] == "AWS/Lambda" && p["MetricName"] == "Errors" {
			if fn, _ := samtemplate.Lookup(p, "Dimensions", "0", "Value"); fn == "ref-"+dailyCheck {
				errorsAlarms++
				checkAlarmActions(t, a.LogicalID, p, actions)
			}
		}
	}
	for _, table := range tables {
		if missing[table] != 1 || gaps[table] != 1 {
			t.Errorf("table %s: %d missing-items alarms and %d gap alarms, want 1 of each", table, missing[table], gaps[table])
		}
	}
	if len(missing) != len(tables) || len(gaps) != len(tables) {
		t.Errorf("missing-items alarms on %v and gap alarms on %v, want exactly %v", missing, gaps, tables)
	}
	if errorsAlarms != 1 {
		t.Errorf("%d alarms on the daily check's Errors, want 1", errorsAlarms)
	}
}

// checkAlarmActions checks that an alarm notifies as the stack's other
// alarms do: the given topic and the email topic (when set), on ALARM and
// OK.
func checkAlarmActions(t *testing.T, id string, p map[string]any, want []any) {
	t.Helper()
	for _, k := range []string{"AlarmActions", "OKActions"} {
		if !reflect.DeepEqual(p[k], want) {
			t.Errorf("%s %s = %v, want %v", id, k, p[k], want)
		}
	}
}

// gapAlarmTable returns the table of an early-warning alarm: metric math
// on that table's TimeToLiveDeletedItemCount less the function's Archived
// for it, hourly, alarming after three hours in a row above
// max(10, 1% of the deletions).
func gapAlarmTable(t *testing.T, p map[string]any) (string, bool) {
	t.Helper()
	metrics, _ := p["Metrics"].([]any)
	var table, archivedTable any
	var expr string
	for _, m := range metrics {
		mm := m.(map[string]any)
		name, _ := samtemplate.Lookup(mm, "MetricStat", "Metric", "MetricName")
		dims, _ := samtemplate.Lookup(mm, "MetricStat", "Metric", "Dimensions")
		var tableDim any
		for _, d := range asAnyList(dims) {
			if dm := d.(map[string]any); dm["Name"] == "TableName" {
				tableDim = dm["Value"]
			}
		}
		switch {
		case name == "TimeToLiveDeletedItemCount":
			table = tableDim
		case name == "Archived":
			archivedTable = tableDim
		case mm["Expression"] != nil && mm["ReturnData"] == true:
			expr = fmt.Sprint(mm["Expression"])
		}
		if period, _ := samtemplate.Lookup(mm, "MetricStat", "Period"); period != nil && fmt.Sprint(period) != "3600" {
			return "", false
		}
	}
	if table == nil || !strings.Contains(expr, "> 10") || !strings.Contains(expr, "/ 100") {
		return "", false // a stop alarm, or not on TTL deletions
	}
	if !reflect.DeepEqual(table, archivedTable) || !strings.Contains(expr, "FILL(deleted, 0) - FILL(archived, 0)") {
		t.Errorf("gap alarm compares %v deleted with %v archived by %q", table, archivedTable, expr)
	}
	if p["EvaluationPeriods"] != 3 || p["DatapointsToAlarm"] != 3 {
		t.Errorf("gap alarm on %v over %v periods, %v to alarm; want 3 hours in a row", table, p["EvaluationPeriods"], p["DatapointsToAlarm"])
	}
	if desc := fmt.Sprint(p["AlarmDescription"]); !strings.Contains(desc, "max(10, 1%") {
		t.Errorf("gap alarm description %q does not state its threshold", desc)
	}
	s, ok := table.(string)
	return s, ok
}

func asAnyList(v any) []any {
	l, _ := v.([]any)
	return l
}

func TestDailyCheckWorkGroupResultsOutsideArchive(t *testing.T) {
	tpl := loadTemplate(t)
	for _, params := range []map[string]string{
		nil,
		{"ArchivePrefix": "athena/", "ErrorPrefix": "athena-results/"},
		{"ArchivePrefix": "ttl/archive/", "ErrorPrefix": "ttl-errors/"},
	} {
		r := deployed(newResolver(t, tpl, params))
		wgs := existing(t, r, "AWS::Athena::WorkGroup")
		if len(wgs) != 1 {
			t.Fatalf("%d workgroups, want 1", len(wgs))
		}
		p := props(t, r, wgs[0])
		if name, err := r.String(p["Name"]); err != nil || name != "ttl-archiver" {
			t.Errorf("workgroup name %q (%v), want the stack's name", name, err)
		}
		if v, _ := samtemplate.Lookup(p, "WorkGroupConfiguration", "EnforceWorkGroupConfiguration"); v != true {
			t.Errorf("EnforceWorkGroupConfiguration = %v, want true", v)
		}
		out, _ := samtemplate.Lookup(p, "WorkGroupConfiguration", "ResultConfiguration", "OutputLocation")
		loc, err := r.String(out)
		if err != nil {
			t.Fatalf("OutputLocation: %v", err)
		}
		rest, ok := strings.CutPrefix(loc, "s3://"+testArchiveBucket+"/")
		if !ok || rest == "" || !strings.HasSuffix(rest, "/") {
			t.Fatalf("OutputLocation %q, want a folder of the archive bucket", loc)
		}
		archivePrefix, errorPrefix := paramValue(t, r, "ArchivePrefix"), paramValue(t, r, "ErrorPrefix")
		for name, prefix := range map[string]string{"ArchivePrefix": archivePrefix, "ErrorPrefix": errorPrefix} {
			if strings.HasPrefix(rest, prefix) || strings.HasPrefix(prefix, rest) {
				t.Errorf("%s=%q: the Athena results %q are inside it, or it inside them", name, prefix, rest)
			}
		}
		// Nor under the Glue table's Location (ArchivePrefix).
		table := props(t, r, tpl.Resources["ArchiveTable"])
		tl, _ := samtemplate.Lookup(table, "TableInput", "StorageDescriptor", "Location")
		if s, err := r.String(tl); err != nil || strings.HasPrefix(loc, s) {
			t.Errorf("the Glue table's Location %q (%v) holds the Athena results %q", s, err, loc)
		}
	}
	// For every prefix the parameters accept: a prefix that holds the
	// results is one of the results' folder paths, and each is refused.
	r := deployed(newResolver(t, tpl, nil))
	wg := props(t, r, existing(t, r, "AWS::Athena::WorkGroup")[0])
	out, _ := samtemplate.Lookup(wg, "WorkGroupConfiguration", "ResultConfiguration", "OutputLocation")
	loc, _ := r.String(out)
	rest := strings.TrimPrefix(loc, "s3://"+testArchiveBucket+"/")
	for i := range rest {
		if rest[i] != '/' {
			continue
		}
		for _, name := range []string{"ArchivePrefix", "ErrorPrefix"} {
			if err := tpl.Parameters[name].Check(rest[:i+1]); err == nil {
				t.Errorf("%s accepts %q, which holds the Athena results %q", name, rest[:i+1], rest)
			}
		}
	}
	// The results expire.
	rules, _ := samtemplate.Lookup(props(t, r, tpl.Resources["ArchiveBucket"]), "LifecycleConfiguration", "Rules")
	expires := false
	for _, rule := range asAnyList(rules) {
		rm := rule.(map[string]any)
		if rm["Prefix"] == rest && rm["ExpirationInDays"] != nil && rm["Status"] == "Enabled" {
			expires = true
		}
	}
	if !expires {
		t.Errorf("no lifecycle rule expires the Athena results under %q", rest)
	}
}

func paramValue(t *testing.T, r *samtemplate.Resolver, name string) string {
	t.Helper()
	v, err := r.ParameterValue(name)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(v)
}
