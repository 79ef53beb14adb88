package msgqseam_test

import (
	"fmt"

	"github.com/xipc/xipc/internal/msgqseam"
)

// Without a backend set, msgq uses its local one.
func ExampleGet() {
	fmt.Println(msgqseam.Get() == nil)
	// Output: true
}
