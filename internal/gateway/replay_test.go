//go:build unix

package gateway

import (
	"fmt"
	"testing"
)

func TestReplayCache(t *testing.T) {
	c := newReplayCache(3)
	for i := range 3 {
		if !c.add([]byte(fmt.Sprint(i))) {
			t.Fatalf("datagram %d seen as a replay", i)
		}
	}
	if c.add([]byte("1")) {
		t.Fatal("a replay got through")
	}
	if !c.add([]byte("3")) { // forgets "0"
		t.Fatal("a new datagram refused")
	}
	if !c.add([]byte("0")) || c.add([]byte("3")) {
		t.Fatal("the ring forgets the wrong datagram")
	}
	if len(c.seen) != 3 {
		t.Fatalf("%d remembered, want 3", len(c.seen))
	}
}
