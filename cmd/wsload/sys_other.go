//go:build !unix

package main

func raiseFileLimit() (soft, hard uint64) { return 0, 0 }

func usage() (cpu float64, maxRSS int64) { return 0, 0 }
