package oauth

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// BackendLogout ends a session at the provider from the server side, as
// oauth2-proxy's --backend-logout-url does: a GET of logoutURL, which the
// caller has filled in (typically with the ID token). Any 2xx answer is
// success. The URL is not part of the error, since it may carry a token.
func (p *OIDC) BackendLogout(ctx context.Context, logoutURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, logoutURL, nil)
	if err != nil {
		return fmt.Errorf("oauth: backend logout: malformed URL")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: backend logout failed", ErrUnavailable)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: backend logout answered %d", ErrUnavailable, resp.StatusCode)
	}
	return nil
}
