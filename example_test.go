package xipc_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/pipe"
)

// Errors from every xipc package match the sentinels with errors.Is, name
// the object, and carry the Win32 code a Windows program would see.
func Example() {
	_, err := pipe.Dial(context.Background(), `\\.\pipe\xipc-example-missing`, nil)
	fmt.Println(errors.Is(err, xipc.ErrNotFound), errors.Is(err, fs.ErrNotExist))
	var op *xipc.OpError
	if errors.As(err, &op) {
		fmt.Println(op.Kind, op.Op, op.Name)
	}
	fmt.Println(xipc.Win32Code(err), xipc.Win32Code(xipc.ErrBusy), xipc.FromWin32(234) == xipc.ErrMoreData)
	// Output:
	// true true
	// pipe dial \\.\pipe\xipc-example-missing
	// 2 231 true
}
