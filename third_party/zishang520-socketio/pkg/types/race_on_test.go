//go:build race

package types

// raceEnabled: the race detector makes sync.Pool drop what is put back at
// random, so allocation counts through a pool are not exact under it.
const raceEnabled = true
