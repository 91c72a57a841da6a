package main

import (
	"os"
	"testing"
)

// TestMain lets this test binary be its own checkpoint process, as the
// orderbell binary is: run (TestRunsWithNoConfiguration) starts it again
// with models.CheckpointProcessEnv set.
func TestMain(m *testing.M) {
	if checkpointProcessMain() {
		return
	}
	os.Exit(m.Run())
}
