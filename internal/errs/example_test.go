package errs_test

import (
	"errors"
	"fmt"

	"github.com/xipc/xipc/internal/errs"
)

func Example() {
	err := errs.Op("dial", "pipe", `\\.\pipe\app`, errs.ErrBusy)
	fmt.Println(errors.Is(err, errs.ErrBusy), errs.Win32Code(err))
	// Output:
	// true 231
}
