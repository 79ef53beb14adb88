package owner_test

import (
	"fmt"

	"github.com/xipc/xipc/internal/owner"
)

// A Trust that names no one trusts the caller's own user and the
// administrators; AnyUser turns the check off.
func Example() {
	var t owner.Trust
	fmt.Println(t.Any())
	all, _ := owner.New(true)
	fmt.Println(all.Any())
	// Output:
	// false
	// true
}
