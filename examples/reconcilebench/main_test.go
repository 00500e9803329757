package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary play the children the program starts
// (it re-executes its own binary with -role).
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-role" {
		if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "reconcilebench:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The program runs the emulator and both measured children as processes
// and reports every run, the medians and the ratios.
func TestBenchmarkProgramSmall(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-users", "1500", "-runs", "2"}, nil, &out))
	s := out.String()
	t.Log(s)
	assert.Regexp(t, `run 1 sdk .* users checked 1500`, s)
	assert.Regexp(t, `run 2 baseline .* users checked 1500`, s)
	assert.Regexp(t, `peak RSS\s+sdk\s+[0-9.]+ MB .*ratio [0-9.]+x`, s)
	assert.Regexp(t, regexp.MustCompile(`sdk peak RSS within the 256 MB goal`), s)
}

func TestBadArguments(t *testing.T) {
	err := run(t.Context(), []string{"-users", "0"}, nil, &bytes.Buffer{})
	assert.ErrorContains(t, err, "-users and -runs must be at least 1")
	err = run(t.Context(), []string{"-role", "nobody", "-ids", "x"}, nil, &bytes.Buffer{})
	assert.ErrorContains(t, err, `unknown role "nobody"`)
}
