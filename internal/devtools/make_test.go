package devtools

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the repository's root, where the Makefile is.
const repoRoot = "../.."

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVenvOnExternallyManagedPython: make venv installs the Python test
// tools into .venv without pip ever installing into the system's Python.
// The system Python is simulated as PEP 668 makes it (Debian 12, Ubuntu
// 24.04): PIP_REQUIRE_VIRTUALENV makes pip refuse to run outside a
// virtual environment, and PYTHON is a python3 whose `-m pip` fails with
// externally-managed-environment, as such a Python's does.
func TestVenvOnExternallyManagedPython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	dir := t.TempDir()
	for _, f := range []string{"Makefile", "requirements-dev.txt", ".ci/venv-scripts.py"} {
		copyFile(t, filepath.Join(repoRoot, f), filepath.Join(dir, f))
	}
	py := filepath.Join(dir, "system-python3")
	script := "#!/bin/sh\nfor a in \"$@\"; do if [ \"$a\" = pip ]; then echo 'error: externally-managed-environment' >&2; exit 1; fi; done\nexec python3 \"$@\"\n"
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// The simulation refuses pip as the marker would.
	if out, err := exec.Command(py, "-m", "pip", "install", "boto3").CombinedOutput(); err == nil || !strings.Contains(string(out), "externally-managed-environment") {
		t.Fatalf("%s -m pip install: %v, %s; want it refused", py, err, out)
	}
	for i := range 2 { // the second run finds .venv up to date
		cmd := exec.Command("make", "-C", dir, "venv", "PYTHON="+py)
		cmd.Env = append(os.Environ(), "PIP_REQUIRE_VIRTUALENV=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make venv (run %d): %v\n%s", i+1, err, out)
		}
		if i == 1 && !strings.Contains(string(out), "Nothing to be done") {
			t.Errorf("make venv again: %s; want nothing done", out)
		}
	}
	venv := filepath.Join(dir, ".venv", "bin")
	out, err := exec.Command(filepath.Join(venv, "cfn-lint"), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1.51.0") {
		t.Errorf(".venv/bin/cfn-lint --version: %v, %s; want 1.51.0 (requirements-dev.txt)", err, out)
	}
	if _, err := os.Stat(filepath.Join(venv, "moto_server")); err != nil {
		t.Errorf(".venv/bin/moto_server: %v", err)
	}
	out, err = exec.Command(filepath.Join(venv, "python"), "-c", "import moto, boto3, samtranslator; print(moto.__version__, boto3.__version__)").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "5.2.1") {
		t.Errorf(".venv/bin/python imports: %v, %s; want moto 5.2.1", err, out)
	}
}

// TestRelease: make release builds the Lambda zips and the CLI with the
// version stamped in, and SHA256SUMS verifies with sha256sum -c. Here
// only for this machine's platform (the full set takes minutes; make
// release builds it).
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	for _, tool := range []string{"make", "zip", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	dist := t.TempDir()
	const version = "v0.1.0-test"
	platform := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.Command("make", "-C", repoRoot, "release", "DIST="+dist, "VERSION="+version, "COMMIT=0123abc",
		"LAMBDA_ARCHS="+runtime.GOARCH, "CLI_PLATFORMS="+platform)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = dist
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
	}
	cli := "ttl-archiver_" + version + "_" + runtime.GOOS + "_" + runtime.GOARCH
	want := []string{cli, "ttl-archiver-archiver-function_" + version + "_linux_" + runtime.GOARCH + ".zip",
		"ttl-archiver-dailycheck-function_" + version + "_linux_" + runtime.GOARCH + ".zip"}
	for _, f := range want {
		if !strings.Contains(string(out), f+": OK") {
			t.Errorf("sha256sum -c: %s; want %s checked", out, f)
		}
	}
	for _, z := range want[1:] {
		r, err := zip.OpenReader(filepath.Join(dist, z))
		if err != nil {
			t.Fatalf("open %s: %v", z, err)
		}
		if len(r.File) != 1 || r.File[0].Name != "bootstrap" || r.File[0].Mode()&0o111 == 0 {
			t.Errorf("%s holds %v, want one executable bootstrap", z, r.File)
		}
		_ = r.Close()
	}
	out, err = exec.Command(filepath.Join(dist, cli), "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ttl-archiver "+version+"\n") || !strings.Contains(string(out), "commit:         0123abc") {
		t.Errorf("%s version: %v\n%s; want %s and commit 0123abc", cli, err, out, version)
	}
	// A tampered file fails the check.
	if err := os.WriteFile(filepath.Join(dist, cli), []byte("tampered"), 0o755); err != nil {
		t.Fatal(err)
	}
	check = exec.Command("sha256sum", "-c", "--quiet", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err == nil {
		t.Errorf("sha256sum -c after tampering: %s; want a failure", out)
	}
}
