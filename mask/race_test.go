//go:build race

package mask_test

func init() { raceEnabled = true }
