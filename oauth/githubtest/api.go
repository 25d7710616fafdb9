package githubtest

import (
	"net/http"
	"strconv"
	"strings"
)

// api answers the REST API endpoint name for the holder of the request's
// token ("Authorization: Bearer" or "token"), as GitHub answers it: 401
// without a token it knows (or with an expired one); /user/emails needs
// the scope user or user:email and /user/teams read:org (or write:org,
// admin:org), else 403; a private repository the user cannot see is a 404.
func (g *GitHub) api(w http.ResponseWriter, r *http.Request, name string, params []string) {
	if r.Method != http.MethodGet {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.accessTokens[bearer(r)]
	user, known := g.findUser(gr.login)
	if !ok || !known || !gr.expires.IsZero() && !g.now().Before(gr.expires) {
		message(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	switch name {
	case "user":
		writeJSON(w, http.StatusOK, map[string]any{"login": user.Login, "id": user.ID, "type": "User"})
	case "emails":
		if !hasScope(gr.scopes, "user", "user:email") {
			forbidden(w, "user, user:email")
			return
		}
		list := make([]any, 0, len(user.Emails))
		for _, e := range user.Emails {
			list = append(list, map[string]any{"email": e.Address, "primary": e.Primary, "verified": e.Verified, "visibility": nil})
		}
		g.page(w, r, list)
	case "orgs":
		list := make([]any, 0, len(user.Orgs))
		for _, o := range user.Orgs {
			list = append(list, map[string]any{"login": o})
		}
		g.page(w, r, list)
	case "teams":
		if !hasScope(gr.scopes, "read:org", "write:org", "admin:org") {
			forbidden(w, "read:org")
			return
		}
		list := make([]any, 0, len(user.Teams))
		for _, t := range user.Teams {
			org, slug, _ := strings.Cut(t, ":")
			list = append(list, map[string]any{"slug": slug, "name": slug, "organization": map[string]any{"login": org}})
		}
		g.page(w, r, list)
	case "repo":
		g.repo(w, user.Login, params[0], params[1])
	case "collaborator":
		g.collaborator(w, user.Login, params[0], params[1], params[2])
	}
}

// repo answers GET /repos/{owner}/{name} for login, with login's
// permissions. The caller holds g.mu.
func (g *GitHub) repo(w http.ResponseWriter, login, owner, name string) {
	repo, found := g.repos[strings.ToLower(owner+"/"+name)]
	level := levelOf(repo.Access[strings.ToLower(login)])
	if !found || repo.Private && level < 0 {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	names := permissionLevels()
	perms := map[string]bool{}
	for i := 0; i < len(names); i++ {
		perms[names[i]] = level >= i
	}
	if !repo.Private {
		perms["pull"] = true
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"full_name":   owner + "/" + name,
		"private":     repo.Private,
		"permissions": perms,
	})
}

// collaborator answers GET /repos/{owner}/{name}/collaborators/{user},
// asked by login: 204 when user has any permission, 404 when not, 403 when
// login cannot push (GitHub asks push access of whoever asks). The caller
// holds g.mu.
func (g *GitHub) collaborator(w http.ResponseWriter, login, owner, name, user string) {
	repo, found := g.repos[strings.ToLower(owner+"/"+name)]
	asker := levelOf(repo.Access[strings.ToLower(login)])
	if !found || repo.Private && asker < 0 {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	if asker < levelOf("push") {
		message(w, http.StatusForbidden, "Must have push access to view repository collaborators.")
		return
	}
	if levelOf(repo.Access[strings.ToLower(user)]) < 0 {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// permissionLevels returns GitHub's repository permissions, weakest
// first; each includes those before it.
func permissionLevels() []string {
	return []string{"pull", "triage", "push", "maintain", "admin"}
}

// levelOf returns perm's index in permissionLevels, or -1.
func levelOf(perm string) int {
	names := permissionLevels()
	for i := 0; i < len(names); i++ {
		if names[i] == perm {
			return i
		}
	}
	return -1
}

// page writes the page of list the request asks for with per_page (30 by
// default; at most 100 and the page size SetPageSize set) and page (from
// 1), and a Link header naming the next, last, first and previous pages
// when there are several, as GitHub does. The caller holds g.mu.
func (g *GitHub) page(w http.ResponseWriter, r *http.Request, list []any) {
	q := r.URL.Query()
	size, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || size <= 0 {
		size = 30
	}
	if size > 100 {
		size = 100
	}
	if size > g.pageSize {
		size = g.pageSize
	}
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n <= 0 {
		n = 1
	}
	last := (len(list) + size - 1) / size
	if last > 1 {
		var links []string
		link := func(page int, rel string) {
			u := *r.URL
			u.Scheme, u.Host = "http", r.Host
			if r.TLS != nil {
				u.Scheme = "https"
			}
			v := u.Query()
			v.Set("per_page", strconv.Itoa(size))
			v.Set("page", strconv.Itoa(page))
			u.RawQuery = v.Encode()
			links = append(links, "<"+u.String()+`>; rel="`+rel+`"`)
		}
		if n > 1 {
			link(n-1, "prev")
		}
		if n < last {
			link(n+1, "next")
			link(last, "last")
		}
		if n > 1 {
			link(1, "first")
		}
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := (n - 1) * size
	if start > len(list) {
		start = len(list)
	}
	end := start + size
	if end > len(list) {
		end = len(list)
	}
	writeJSON(w, http.StatusOK, list[start:end])
}

// bearer returns the token of r's Authorization header, "Bearer" or
// "token" (GitHub takes both), or "".
func bearer(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(auth, " ")
	if strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "token") {
		return token
	}
	return ""
}

// hasScope reports whether granted holds one of want.
func hasScope(granted []string, want ...string) bool {
	for _, s := range granted {
		for _, w := range want {
			if s == w {
				return true
			}
		}
	}
	return false
}

// forbidden answers a request whose token lacks the scopes accepted.
func forbidden(w http.ResponseWriter, accepted string) {
	w.Header().Set("X-Accepted-OAuth-Scopes", accepted)
	message(w, http.StatusForbidden, "Resource not accessible by personal access token")
}

// message answers status with GitHub's error body.
func message(w http.ResponseWriter, status int, text string) {
	writeJSON(w, status, map[string]any{"message": text, "documentation_url": "https://docs.github.com/rest"})
}

// notFound answers a path the fake does not serve.
func notFound(w http.ResponseWriter) {
	message(w, http.StatusNotFound, "Not Found")
}
