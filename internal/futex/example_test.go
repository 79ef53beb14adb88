//go:build unix

package futex_test

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/xipc/xipc/internal/futex"
)

// A waiter sleeps until the word changes from the value it saw.
func Example() {
	var word, cancel uint32
	done := make(chan struct{})
	go func() {
		seen := atomic.LoadUint32(&word)
		for atomic.LoadUint32(&word) == seen {
			futex.WaitAny([]*uint32{&word}, []uint32{seen}, &cancel, time.Second)
		}
		close(done)
	}()
	time.Sleep(10 * time.Millisecond)
	atomic.AddUint32(&word, 1)
	futex.Wake(&word)
	<-done
	fmt.Println("woken")
	// Output: woken
}
