package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"staffroom/internal/errcode"
)

// MaxURLBytes bounds an endpoint's URL.
const MaxURLBytes = 2000

// CheckURL validates an endpoint's URL when it is registered: an absolute
// https URL without credentials or fragment. With allowPrivate (development
// and tests) http is accepted too and any host; otherwise a host that is
// literally a loopback, private or link-local address, or localhost, is
// refused here already. Whatever a name resolves to is checked again at every
// send (Dialer).
func CheckURL(field, raw string, allowPrivate bool) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case len(raw) > MaxURLBytes:
		return "", errcode.Input(field, "a URL has at most %d characters", MaxURLBytes)
	case err != nil || u.Host == "" || !u.IsAbs():
		return "", errcode.Input(field, "give an absolute URL, such as https://app.example.com/staffroom/webhooks")
	case u.Scheme != "https" && !(allowPrivate && u.Scheme == "http"):
		return "", errcode.Input(field, "webhooks are sent over https only")
	case u.User != nil:
		return "", errcode.Input(field, "a webhook URL carries no credentials: the signature proves who sent the request")
	case u.Fragment != "":
		return "", errcode.Input(field, "a webhook URL has no #fragment")
	}
	if allowPrivate {
		return u.String(), nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "", errcode.Input(field, "webhooks are not sent to this machine")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if reason := refusedAddr(ip); reason != "" {
			return "", errcode.Input(field, "webhooks are not sent to %s: %s", ip, reason)
		}
	}
	return u.String(), nil
}

// refusedRanges are the networks besides loopback, private, link-local,
// unspecified and multicast that are not the public internet.
var refusedRanges = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
}

// refusedAddr says why an address is not a public one, or "" when it is.
func refusedAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsMulticast():
		return "a multicast address"
	}
	for _, r := range refusedRanges {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	return ""
}

// RefusedError is a connection the worker would not open: the address a name
// resolved to is not a public one.
type RefusedError struct {
	IP     netip.Addr
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s (in production webhooks go to public addresses only)", e.IP, e.Reason)
}

// refusePrivate is a net.Dialer Control: it runs after name resolution, on
// the address about to be connected, so a name that resolves to a private
// address — at registration or only later (DNS rebinding) — is refused.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhook: dial address %q: %w", address, err)
	}
	if reason := refusedAddr(ip); reason != "" {
		return &RefusedError{IP: ip.Unmap(), Reason: reason}
	}
	return nil
}

// refusal returns the refusal inside a send error, if any.
func refusal(err error) *RefusedError {
	var r *RefusedError
	if errors.As(err, &r) {
		return r
	}
	return nil
}
