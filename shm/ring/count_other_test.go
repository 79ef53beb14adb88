//go:build !windows

package ring_test

// fullStream is TestStream's message count without -short.
const fullStream = 10_000_000
