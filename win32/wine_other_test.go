//go:build !windows

package win32_test

// underWine is false off Windows.
func underWine() bool { return false }
