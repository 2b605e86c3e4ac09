package samtemplate_test

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SAM builds the function with `make build-ArchiverFunction` (Metadata:
// BuildMethod: makefile); what it leaves in ARTIFACTS_DIR is what runs on
// provided.al2023 arm64.
func TestBuildArchiverFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the Lambda bootstrap; skipped with -short")
	}
	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed: skipping `make build-ArchiverFunction`")
	}
	root := repoRoot(t)
	artifacts := t.TempDir()
	cmd := exec.Command(makePath, "-C", root, "build-ArchiverFunction", "ARTIFACTS_DIR="+artifacts)
	cmd.Env = buildEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-ArchiverFunction ARTIFACTS_DIR=%s: %v\n%s", artifacts, err, out)
	}
	bootstrap := filepath.Join(artifacts, "bootstrap")
	st, err := os.Stat(bootstrap)
	if err != nil {
		t.Fatalf("the build left no bootstrap: %v", err)
	}
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("bootstrap mode %v is not executable", st.Mode())
	}

	f, err := elf.Open(bootstrap)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	defer func() { _ = f.Close() }()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap is %v %v, want ELFCLASS64 EM_AARCH64 (arm64)", f.Class, f.Machine)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("OS ABI %v, want Linux (SYSV)", f.OSABI)
	}
	// Statically linked: no program interpreter, no shared libraries.
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap has a PT_INTERP segment: it is dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Errorf("read DT_NEEDED: %v", err)
	}
	if len(libs) > 0 {
		t.Errorf("bootstrap needs shared libraries %v", libs)
	}
	// Stripped (-ldflags='-s -w'): no symbol table, no DWARF.
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug") || strings.HasPrefix(s.Name, ".zdebug") {
			t.Errorf("bootstrap keeps section %s: not stripped", s.Name)
		}
	}

	// The Go build settings recorded in the binary.
	info, err := buildinfo.ReadFile(bootstrap)
	if err != nil {
		t.Fatalf("read Go build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{
		"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0", "-trimpath": "true", "-tags": "lambda.norpc",
	} {
		if settings[k] != want {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], want)
		}
	}
	// With -trimpath Go does not record -ldflags; the sections above show
	// -s -w took effect.
	if !strings.HasSuffix(info.Path, "/function") {
		t.Errorf("bootstrap was built from %s, want ./function", info.Path)
	}
}

// buildEnv is the test's environment without settings that would change
// what the make target builds.
func buildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL":
			continue
		}
		env = append(env, kv)
	}
	return env
}
