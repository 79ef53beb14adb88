//go:build !linux

package gateway_test

func runRole() (bool, int) { return false, 0 }
