package rehearsal

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// CheckIPURL answers with the caller's public IPv4 address and a newline
// (AWS's own service, the one the program's operatorCidr error suggests).
const CheckIPURL = "https://checkip.amazonaws.com"

// CheckIPTimeout bounds the question: the service answers in milliseconds,
// and a machine that cannot reach it should be told at once to pass
// --operator-cidr.
const CheckIPTimeout = 10 * time.Second

// DetectOperatorCIDR asks url (CheckIPURL) for this machine's public
// address and returns it as a /32: the operatorCidr that lets this machine,
// and only it, reach Marathon and SSH.
func DetectOperatorCIDR(ctx context.Context, hc *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("detecting this machine's public address at %s: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("detecting this machine's public address at %s: %w; pass --operator-cidr <your address>/32", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("detecting this machine's public address at %s: HTTP %d %v; pass --operator-cidr <your address>/32", url, resp.StatusCode, err)
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(string(body)))
	if err != nil || !addr.Is4() {
		return "", fmt.Errorf("detecting this machine's public address at %s: answer %q is not an IPv4 address; pass --operator-cidr <your address>/32", url, strings.TrimSpace(string(body)))
	}
	return netip.PrefixFrom(addr, 32).String(), nil
}
