package soak

import (
	"flag"
	"os"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

// bootstrap is the function built once for these tests, for this machine.
var bootstrap string

// shortParallel is how many short soaks run at once unless -parallel is
// given: they mostly wait (backoff, stalled calls, outages), so four share
// two cores without slowing each other much.
const shortParallel = "4"

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", shortParallel)
	}
	os.Exit(local.RunWithBootstrap(m, &bootstrap))
}
