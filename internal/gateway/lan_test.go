//go:build linux

package gateway_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTwoHosts: a client on host b reaches an echo pipe on host a through
// a's gateway; the server sees b's certificate subject. A client with a
// certificate of another CA is refused.
func TestTwoHosts(t *testing.T) {
	l := newLAN(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	gw := a.start(t, l, "gateway")
	gw.expect("ready")
	echo := a.start(t, l, "echo", "XIPC_GW_PIPE=echo")
	echo.expect("ready")

	c := b.start(t, l, "call", "XIPC_GW_PIPE=echo", "XIPC_GW_TARGETS="+a.ip)
	if got, want := c.expect(""), "reply "+a.ip+" echo CN=b,O=xipc ping"; got != want {
		t.Errorf("b's call: %q; want %q", got, want)
	}
	c = b.start(t, l, "call", "XIPC_GW_PIPE=missing", "XIPC_GW_TARGETS="+a.ip)
	if got := c.expect(""); !strings.Contains(got, "notfound=true") {
		t.Errorf("b's call of a missing pipe: %q; want not found", got)
	}
	bad := b.start(t, l, "call", "XIPC_GW_PIPE=echo", "XIPC_GW_TARGETS="+a.ip,
		"XIPC_TLS_DIR="+filepath.Join(l.pki, "other", "mallory"))
	if got := bad.expect(""); !strings.HasPrefix(got, "error ") || !strings.Contains(got, "network=true") {
		t.Errorf("call with a certificate of another CA: %q; want an ErrNetwork error", got)
	}
	echo.stop()
	gw.stop()
}

// TestThreeHosts: host c calls pipes on a and b, broadcasts to the
// mailslot "news" on every host, and writes to b's alone.
func TestThreeHosts(t *testing.T) {
	l := newLAN(t, 3)
	a, b, c := l.hosts[0], l.hosts[1], l.hosts[2]
	var slots []*proc
	for _, h := range []*host{a, b} {
		h.start(t, l, "gateway").expect("ready")
		h.start(t, l, "echo", "XIPC_GW_PIPE=echo").expect("ready")
		s := h.start(t, l, "slot", `XIPC_GW_SLOT=news`)
		s.expect("ready")
		slots = append(slots, s)
	}
	call := c.start(t, l, "call", "XIPC_GW_PIPE=echo", "XIPC_GW_TARGETS="+a.ip+","+b.ip)
	for _, h := range []*host{a, b} {
		if got, want := call.expect(""), "reply "+h.ip+" echo CN=c,O=xipc ping"; got != want {
			t.Errorf("c's call: %q; want %q", got, want)
		}
	}
	send := c.start(t, l, "send", `XIPC_GW_SLOT=\\*\mailslot\news`, "XIPC_GW_MSG=to all")
	if got := send.expect("toolarge"); got != "toolarge true" {
		t.Errorf("a 425-byte broadcast: %q; want ErrMessageTooLarge", got)
	}
	for _, s := range slots {
		s.expect("got to all")
	}
	send = c.start(t, l, "send", `XIPC_GW_SLOT=\\`+b.ip+`\mailslot\NEWS`, "XIPC_GW_MSG=to b")
	slots[1].expect("got to b")
	send.expect("sent")
}

// TestGatewayKilled: a client streaming through a gateway killed with
// SIGKILL gets an error that says the network connection was lost; once a
// new gateway runs, the client reaches the pipe again.
func TestGatewayKilled(t *testing.T) {
	l := newLAN(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	gw := a.start(t, l, "gateway")
	gw.expect("ready")
	a.start(t, l, "echo", "XIPC_GW_PIPE=echo").expect("ready")
	st := b.start(t, l, "stream", "XIPC_GW_PIPE=echo", "XIPC_GW_TARGETS="+a.ip)
	st.expect("streaming")
	gw.kill()
	got := st.expect("lost")
	if !strings.Contains(got, "network=true") || !strings.Contains(got, "broken=true") {
		t.Errorf("client's error after the gateway died: %q; want ErrNetwork and ErrBrokenPipe", got)
	}
	a.start(t, l, "gateway").expect("ready")
	if got := st.expect("again"); got != "again echo CN=b,O=xipc again" {
		t.Errorf("after the restart: %q", got)
	}
}
