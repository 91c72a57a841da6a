package main

import (
	"os"
	"testing"

	"github.com/orderbell/orderbell/models"
)

// TestMain lets this test binary be its own checkpoint process, as the
// orderbell binary is: run (TestRunsWithNoConfiguration) starts it again
// with models.CheckpointProcessEnv set.
func TestMain(m *testing.M) {
	if models.ServeCheckpointsIfAsked() {
		return
	}
	os.Exit(m.Run())
}
