package experiments_test

import (
	"os"
	"testing"

	"github.com/olc-toolkit/olc/internal/supervise"
)

// TestMain lets the test binary serve as the supervisor of the commands
// its tests run, as olc's own executable does.
func TestMain(m *testing.M) {
	supervise.Init()
	os.Exit(m.Run())
}
