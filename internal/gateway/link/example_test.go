package link_test

import (
	"bytes"
	"fmt"

	"github.com/xipc/xipc/internal/gateway/link"
)

// A client's request to open a remote pipe, as the gateway decodes it.
func ExampleReadRequest() {
	q := link.Request{Op: link.OpPipe, Flags: 6, Name: "echo"}
	got, err := link.ReadRequest(bytes.NewReader(q.Marshal()))
	fmt.Println(got.Name, got.Flags, err)
	// Output: echo 6 <nil>
}
