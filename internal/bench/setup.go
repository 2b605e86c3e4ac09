package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/lambdaenv"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

// Setup phases, in the order function/main.go runs them.
const (
	PhaseConfig   = "archive.ConfigFromEnv"
	PhaseAWS      = "lambdaenv.FirehoseConfig (config.LoadDefaultConfig, credentials retrieved)"
	PhaseClient   = "lambdaenv.NewFirehoseClient (firehose.NewFromConfig)"
	PhaseArchiver = "archive.New (lambdacontext.NewLogger, metrics)"
)

// Phases are the setup phases in order.
var Phases = []string{PhaseConfig, PhaseAWS, PhaseClient, PhaseArchiver}

// ProbeSetup does what function/main.go's setup does, once, timing each
// step, and writes the times (ms by phase) as JSON to stdout. It is run in
// a fresh child process with the function's environment, so that every
// step runs cold, as at a Lambda cold start.
func ProbeSetup(ctx context.Context) error {
	times := map[string]float64{}
	step := func(name string, fn func() error) error {
		t := time.Now()
		err := fn()
		times[name] = ms(time.Since(t))
		return err
	}
	var (
		cfg    archive.Config
		awsCfg aws.Config
		client *firehose.Client
	)
	if err := step(PhaseConfig, func() (err error) { cfg, err = archive.ConfigFromEnv(os.Getenv); return err }); err != nil {
		return err
	}
	if err := step(PhaseAWS, func() (err error) { awsCfg, err = lambdaenv.FirehoseConfig(ctx); return err }); err != nil {
		return err
	}
	if err := step(PhaseClient, func() (err error) { client, err = lambdaenv.NewFirehoseClient(awsCfg); return err }); err != nil {
		return err
	}
	if err := step(PhaseArchiver, func() error {
		_, err := archive.New(client, cfg, archive.WithLogger(lambdacontext.NewLogger()), archive.WithMetrics(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME")))
		return err
	}); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(times)
}

// MeasureSetup runs exe with probeFlag (a program that calls ProbeSetup)
// n times with the environment the bootstrap gets, and returns each
// phase's times in ms.
func MeasureSetup(ctx context.Context, bootstrap, exe, probeFlag string, n int) (map[string]Sample, error) {
	stack, err := local.Start(local.Options{Sink: firehoselocal.Discard})
	if err != nil {
		return nil, err
	}
	defer func() { _ = stack.Close() }()
	fn, err := stack.StartFunction(ctx, local.FunctionOptions{Bootstrap: bootstrap})
	if err != nil {
		return nil, err
	}
	env := fn.Process.Env()
	_ = fn.Close()
	out := map[string]Sample{}
	for range n {
		cmd := exec.CommandContext(ctx, exe, probeFlag)
		cmd.Env = env
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("setup probe: %w", err)
		}
		var times map[string]float64
		if err := json.Unmarshal(b, &times); err != nil {
			return nil, fmt.Errorf("setup probe output %q: %w", b, err)
		}
		for k, v := range times {
			out[k] = append(out[k], v)
		}
	}
	return out, nil
}
