package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	// githubPerPage is how many entries a page of an API list asks for,
	// GitHub's maximum.
	githubPerPage = 100
	// githubMaxPages bounds the pages read of one API list: 1000
	// organizations, teams or email addresses.
	githubMaxPages = 10
)

// githubUser is the part of GET /user Gatehouse uses.
type githubUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
}

// githubEmail is an entry of GET /user/emails.
type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubOrg is an entry of GET /user/orgs.
type githubOrg struct {
	Login string `json:"login"`
}

// githubTeam is an entry of GET /user/teams; Organization holds "login".
type githubTeam struct {
	Slug         string         `json:"slug"`
	Organization map[string]any `json:"organization"`
}

// githubRepo is the part of GET /repos/{owner}/{repo} Gatehouse uses; its
// Permissions are the signed-in user's (pull, push, admin and others).
type githubRepo struct {
	Private     bool            `json:"private"`
	Permissions map[string]bool `json:"permissions"`
}

// identity asks GitHub's API about the holder of token: the user, their
// organizations and teams, and their primary verified email address, and
// applies the membership rules, in oauth2-proxy's order (rules, then email).
func (g *GitHub) identity(ctx context.Context, token string) (Identity, error) {
	if g.api == "" {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnavailable, g.apiErr)
	}
	var u githubUser
	if err := g.getJSON(ctx, token, g.userURL, &u); err != nil {
		return Identity{}, err
	}
	if u.Login == "" || u.ID <= 0 {
		return Identity{}, fmt.Errorf("%w: GitHub API: the user has no login or id", ErrUnavailable)
	}
	groups, err := g.groups(ctx, token)
	if err != nil {
		return Identity{}, err
	}
	if err := g.admit(ctx, token, u.Login, groups); err != nil {
		return Identity{}, err
	}
	email, err := g.primaryEmail(ctx, token)
	if err != nil {
		return Identity{}, err
	}
	return Identity{
		Subject:           strconv.FormatInt(u.ID, 10),
		User:              u.Login,
		PreferredUsername: u.Login,
		Email:             email,
		Groups:            groups,
	}, nil
}

// primaryEmail returns the address GET /user/emails marks both primary and
// verified. Without one the sign-in is rejected, as oauth2-proxy rejects a
// session without an email: a verified address that is not the primary one
// is not used.
func (g *GitHub) primaryEmail(ctx context.Context, token string) (string, error) {
	var found string
	err := g.list(ctx, token, "/user/emails", func(body []byte) (int, error) {
		var page []githubEmail
		if err := json.Unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, e := range page {
			if e.Primary && e.Verified && e.Email != "" && found == "" {
				found = e.Email
			}
		}
		return len(page), nil
	})
	if err != nil {
		return "", err
	}
	if found == "" {
		return "", fmt.Errorf("%w: the GitHub user has no primary verified email address", ErrRejected)
	}
	return found, nil
}

// groups returns the logins of the user's organizations, then
// "org:team-slug" for each of their teams, as oauth2-proxy names them.
func (g *GitHub) groups(ctx context.Context, token string) ([]string, error) {
	var groups []string
	err := g.list(ctx, token, "/user/orgs", func(body []byte) (int, error) {
		var page []githubOrg
		if err := json.Unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, o := range page {
			if o.Login != "" {
				groups = append(groups, o.Login)
			}
		}
		return len(page), nil
	})
	if err != nil {
		return nil, err
	}
	err = g.list(ctx, token, "/user/teams", func(body []byte) (int, error) {
		var page []githubTeam
		if err := json.Unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, t := range page {
			org, _ := t.Organization["login"].(string)
			if org != "" && t.Slug != "" {
				groups = append(groups, org+":"+t.Slug)
			}
		}
		return len(page), nil
	})
	if err != nil {
		return nil, err
	}
	return groups, nil
}

// admit applies the membership rules to login, whose groups are given:
// githubUsers let their logins in; otherwise githubTeam (or, without it,
// githubOrg) and githubRepo must each let the user in; with none of these
// three, githubUsers alone let only their logins in, and no rule at all
// lets everyone in.
func (g *GitHub) admit(ctx context.Context, token, login string, groups []string) error {
	for _, u := range g.users {
		if strings.EqualFold(u, login) {
			return nil
		}
	}
	if g.org == "" && !g.teamRule && g.repo == "" {
		if len(g.users) > 0 {
			return fmt.Errorf("%w: GitHub user %q is not one of githubUsers", ErrRejected, login)
		}
		return nil
	}
	if g.teamRule {
		if !inAny(groups, g.teams) {
			return fmt.Errorf("%w: GitHub user %q is in none of the teams of githubTeam", ErrRejected, login)
		}
	} else if g.org != "" && !inAny(groups, []string{g.org}) {
		return fmt.Errorf("%w: GitHub user %q is not a member of githubOrg", ErrRejected, login)
	}
	if g.repo != "" {
		return g.repoAccess(ctx, token, login)
	}
	return nil
}

// inAny reports whether one of groups is one of want, without regard to
// case (GitHub's logins and slugs are case-insensitive).
func inAny(groups, want []string) bool {
	for _, have := range groups {
		for _, w := range want {
			if strings.EqualFold(have, w) {
				return true
			}
		}
	}
	return false
}

// repoAccess checks login's access to githubRepo as oauth2-proxy does: with
// githubToken, GitHub is asked with that token whether login is a
// collaborator (any permission); without it, the user's own view of the
// repository must grant push, or pull on a private one (everyone can pull
// a public one).
func (g *GitHub) repoAccess(ctx context.Context, token, login string) error {
	owner, name, _ := strings.Cut(g.repo, "/")
	repoURL := g.api + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
	if g.token != "" {
		a, err := g.call(ctx, g.token, repoURL+"/collaborators/"+url.PathEscape(login))
		if err != nil {
			return err
		}
		switch a.status {
		case http.StatusNoContent:
			return nil
		case http.StatusNotFound:
			return fmt.Errorf("%w: GitHub user %q is not a collaborator of githubRepo", ErrRejected, login)
		}
		// The operator's token was refused or GitHub failed: not the user's fault.
		return fmt.Errorf("%w: GitHub API %s answered %d to githubToken", ErrUnavailable, a.path, a.status)
	}
	var r githubRepo
	if err := g.getJSON(ctx, token, repoURL, &r); err != nil {
		return err
	}
	if r.Permissions["push"] || r.Private && r.Permissions["pull"] {
		return nil
	}
	return fmt.Errorf("%w: GitHub user %q cannot push to githubRepo", ErrRejected, login)
}

// list reads the API list at path (under the API base), githubPerPage
// entries a page, handing each page's body to decode, which returns how
// many entries it held. It stops at an empty page, at a page whose Link
// header names no next page, at a short page without a Link header, or
// after githubMaxPages pages (logged: the rest is not used).
func (g *GitHub) list(ctx context.Context, token, path string, decode func(body []byte) (int, error)) error {
	for page := 1; page <= githubMaxPages; page++ {
		a, err := g.call(ctx, token, g.api+path+"?per_page="+strconv.Itoa(githubPerPage)+"&page="+strconv.Itoa(page))
		if err != nil {
			return err
		}
		if err := a.check(); err != nil {
			return err
		}
		n, err := decode(a.body)
		if err != nil {
			return fmt.Errorf("%w: GitHub API %s: decoding the answer: %v", ErrUnavailable, a.path, err)
		}
		next := n >= githubPerPage
		if a.link != "" {
			next = strings.Contains(a.link, `rel="next"`)
		}
		if n == 0 || !next {
			return nil
		}
	}
	// One argument: yaegi v0.16.1 panics, when it loads the package, at a
	// call of a variadic func held in a field with two or more of them.
	msg := fmt.Sprintf("oauth: GitHub API %s has more than %d pages; only their %d entries are used", path, githubMaxPages, githubMaxPages*githubPerPage)
	g.logf("%s", msg)
	return nil
}

// getJSON GETs rawURL with token and decodes a 200 answer into v.
func (g *GitHub) getJSON(ctx context.Context, token, rawURL string, v any) error {
	a, err := g.call(ctx, token, rawURL)
	if err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("%w: GitHub API %s: decoding the answer: %v", ErrUnavailable, a.path, err)
	}
	return nil
}

// githubAnswer is an answer of GitHub's API.
type githubAnswer struct {
	path    string // the request's path, for messages
	status  int
	link    string // the Link header
	limited bool   // a rate limit's 403 or 429
	body    []byte
}

// call GETs rawURL with token, bounded by fetchTimeout, and reads the
// answer's body up to maxBody. Only a failure to get an answer is an error
// (ErrUnavailable); its message holds the path, not the URL's query, and
// never the token.
func (g *GitHub) call(ctx context.Context, token, rawURL string) (githubAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return githubAnswer{}, fmt.Errorf("%w: GitHub API: malformed URL", ErrUnavailable)
	}
	a := githubAnswer{path: req.URL.Path}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := g.client.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return a, fmt.Errorf("%w: GitHub API %s: %v", ErrUnavailable, a.path, err)
	}
	defer resp.Body.Close()
	a.status = resp.StatusCode
	a.link = resp.Header.Get("Link")
	a.limited = resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusForbidden && (resp.Header.Get("X-RateLimit-Remaining") == "0" || resp.Header.Get("Retry-After") != "")
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return a, fmt.Errorf("%w: GitHub API %s: reading the answer: %v", ErrUnavailable, a.path, err)
	}
	if len(body) > maxBody {
		return a, fmt.Errorf("%w: GitHub API %s: %v", ErrUnavailable, a.path, errTooLarge)
	}
	a.body = body
	return a, nil
}

// check returns nil for a 200 answer. Other 4xx answers but 408 and rate
// limits say no to the user (a token GitHub does not accept, a resource out
// of the user's reach): ErrRejected. The rest is ErrUnavailable.
func (a githubAnswer) check() error {
	if a.status == http.StatusOK {
		return nil
	}
	if a.status >= 400 && a.status < 500 && a.status != http.StatusRequestTimeout && !a.limited {
		return fmt.Errorf("%w: GitHub API %s answered %d", ErrRejected, a.path, a.status)
	}
	return fmt.Errorf("%w: GitHub API %s answered %d", ErrUnavailable, a.path, a.status)
}
