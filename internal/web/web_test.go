package web

import (
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies, err := ParsePrefixes("10.0.0.0/8, 192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer, forwarded, want string
	}{
		{"direct client", "203.0.113.7:5000", "", "203.0.113.7"},
		{"untrusted peer cannot claim another address", "203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"trusted proxy names the client", "10.1.2.3:5000", "198.51.100.1", "198.51.100.1"},
		{"spoofed left-most entries are ignored", "10.1.2.3:5000", "1.1.1.1, 198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", "192.168.1.1:5000", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"garbage stops the walk", "10.1.2.3:5000", "not-an-ip", "10.1.2.3"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.forwarded != "" {
			r.Header.Set("X-Forwarded-For", c.forwarded)
		}
		if got := clientIP(r, proxies); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if _, err := ParsePrefixes("10.0.0.0/99"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}
