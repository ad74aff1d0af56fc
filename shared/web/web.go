// Package web serves the pages people use, beside the JSON API that
// integrators use: the customer's verification page (/verify, in the
// customer-api function) and the reviewer console (/console, in the
// admin-api function). Pages are server-rendered with html/template from
// templates and assets embedded in the binary; they call the use cases of
// kyc.Service directly (never the JSON API over HTTP), and every string
// comes from one bilingual catalogue (English and Traditional Chinese).
//
// Security of the pages (docs/security.md): sessions in encrypted,
// authenticated __Host- cookies (HttpOnly, Secure, SameSite=Lax) with idle
// expiry; Go's http.CrossOriginProtection on every state change; a strict
// Content-Security-Policy with no inline script or style; no personal data
// in URLs or logs; Cache-Control: no-store on every page. The package
// imports no AWS code.
package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // region time zones on Lambda, which ships no zoneinfo

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Config is what both sets of pages need.
type Config struct {
	// PublicURL is the gate's origin as browsers reach it.
	PublicURL string
	// Keys seal the session cookies.
	Keys *Keys
	// Now is real time for sessions and tokens (time.Now when nil); the
	// policy's clock stays the service's.
	Now func() time.Time
	Log *slog.Logger
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

// site is what both page sets share: templates, assets, headers, errors.
type site struct {
	cfg       Config
	function  string
	base      string // "/verify" or "/console"
	templates map[string]*template.Template
	assets    fs.FS
}

func newSite(cfg Config, function, base string, pages ...string) *site {
	if cfg.Keys == nil {
		panic("web: Config.Keys is required")
	}
	if !ValidOrigin(cfg.PublicURL) {
		panic("web: Config.PublicURL is not an origin")
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	s := &site{cfg: cfg, function: function, base: base, templates: map[string]*template.Template{}}
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	s.assets = sub
	for _, p := range append(pages, "error") {
		s.templates[p] = template.Must(template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	return s
}

// mount registers handlers for exactly the function's page routes in
// contract.Routes (a route without a handler, or a handler without a route,
// is a programming error found at start), behind the cross-origin check
// and the security headers.
func (s *site) mount(handlers map[string]http.HandlerFunc, bypass ...string) http.Handler {
	mux := http.NewServeMux()
	routes := contract.PageRoutesOf(s.function)
	for _, rt := range routes {
		h, ok := handlers[rt.Pattern]
		if !ok {
			panic(fmt.Sprintf("web: route %q of %s has no handler", rt.Pattern, s.function))
		}
		mux.Handle(rt.Pattern, h)
	}
	for pattern := range handlers {
		if !slices.ContainsFunc(routes, func(r contract.Route) bool { return r.Pattern == pattern }) {
			panic(fmt.Sprintf("web: handler %q of %s is not a route in contract.Routes", pattern, s.function))
		}
	}
	cop := http.NewCrossOriginProtection()
	for _, b := range bypass {
		cop.AddInsecureBypassPattern(b)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "error.crossorigin")
	}))
	return s.headers(cop.Handler(mux))
}

// csp is the Content-Security-Policy of every page: scripts and styles are
// files of this origin only (no inline script, style or event handler),
// nothing may frame a page, forms post here only. extra gives, per
// directive: the sources that replace its default (the documents bucket's
// origin for uploads and review links).
func csp(extra map[string][]string) string {
	dirs := [][2]string{
		{"default-src", "'none'"},
		{"script-src", "'self'"},
		{"style-src", "'self'"},
		{"img-src", "'self' data:"},
		{"font-src", "'self'"},
		{"connect-src", "'self'"},
		{"frame-src", "'none'"},
		{"object-src", "'none'"},
		{"form-action", "'self'"},
		{"frame-ancestors", "'none'"},
		{"base-uri", "'none'"},
	}
	var b strings.Builder
	for i, d := range dirs {
		if i > 0 {
			b.WriteString("; ")
		}
		v := d[1]
		if set := extra[d[0]]; len(set) > 0 {
			v = strings.Join(set, " ")
		}
		b.WriteString(d[0] + " " + v)
	}
	return b.String()
}

// headers sets the headers every answer of the pages carries. Pages hold
// personal data: nothing is stored by a browser or a proxy (assets aside).
func (s *site) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp(nil))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cache-Control", "no-store")
		if strings.HasPrefix(s.cfg.PublicURL, "https://") {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// asset serves an embedded script, stylesheet or image.
func (s *site) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(s.assets, name)
	if err != nil || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	ct := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}[path.Ext(name)]
	if ct == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// view is what every template gets: the language, the catalogue and the
// page's own data.
type view struct {
	Lang     string
	Base     string // "/verify" or "/console"
	Title    string
	Who      string // the signed-in person's id
	Role     string // for staff
	Admin    bool
	Path     string // this page, for the language switch
	Notice   string
	Error    string
	Data     any
	Scripts  []string
	BodyAttr string
}

// T returns a catalogue text in the page's language.
func (v view) T(key string) string { return text(v.Lang, key) }

// Tf formats a catalogue text.
func (v view) Tf(key string, args ...any) string { return fmt.Sprintf(text(v.Lang, key), args...) }

// L returns a label in the page's language.
func (v view) L(l kyc.Label) string { return pick(v.Lang, l) }

// Action is an audited action in words ("" for an action the catalogue has
// no words for, which a test forbids: the page then shows the code alone).
func (v view) Action(code string) string {
	if _, ok := messages["action."+code]; !ok {
		return ""
	}
	return text(v.Lang, "action."+code)
}

// Actor is who did an audited action, in words (the kind, then the id).
func (v view) Actor(a kyc.Actor) string {
	kind := string(a.Kind)
	if _, ok := messages["actor."+kind]; ok {
		kind = text(v.Lang, "actor."+kind)
	}
	return kind + " " + a.ID
}

// SwitchURL is this page in the other language.
func (v view) SwitchURL() string {
	q := url.Values{"lang": {text(v.Lang, "lang.switch.to")}}
	return v.Path + "?" + q.Encode()
}

var funcs = template.FuncMap{
	"utc": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04") + " UTC"
	},
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"regional": func(t time.Time, region string) string {
		if t.IsZero() {
			return ""
		}
		loc := zone(region)
		return t.In(loc).Format("2006-01-02 15:04 MST")
	},
	"zoneName": func(region string) string { return zone(region).String() },
	"join":     strings.Join,
	"size":     humanSize,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}

// zones are the time zones of the server regions the policy names.
var zones = map[string]string{"hk": "Asia/Hong_Kong", "tw": "Asia/Taipei"}

// zone is the time zone of a server region: its listed zone, the region
// itself when it is a zone name, else UTC.
func zone(region string) *time.Location {
	name := zones[strings.ToLower(region)]
	if name == "" && strings.Contains(region, "/") {
		name = region
	}
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// render writes a page. A template error after the first byte cannot change
// the status any more; templates are tested in both languages so it does
// not happen.
func (s *site) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	v.Base = s.base
	if v.Path == "" {
		v.Path = r.URL.Path
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if l := r.URL.Query().Get("lang"); l == LangEn || l == LangZhHant {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", Secure: true, HttpOnly: true,
			SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	}
	w.WriteHeader(status)
	if err := s.templates[page].ExecuteTemplate(w, "layout", v); err != nil {
		s.cfg.log().ErrorContext(r.Context(), "render", "page", page, "route", r.Pattern, "err", err)
	}
}

// fail renders the error page with a catalogue message.
func (s *site) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	lang := language(r)
	s.render(w, r, status, "error", view{Lang: lang, Title: text(lang, "error.title"), Error: text(lang, key)})
}

// statusOf maps the policy engine's error kinds to statuses (as the JSON
// API's table does).
var statusOf = map[kyc.Kind]int{
	kyc.KindInvalid:     http.StatusUnprocessableEntity,
	kyc.KindNotFound:    http.StatusNotFound,
	kyc.KindConflict:    http.StatusConflict,
	kyc.KindForbidden:   http.StatusForbidden,
	kyc.KindTooLarge:    http.StatusRequestEntityTooLarge,
	kyc.KindRateLimited: http.StatusTooManyRequests,
	kyc.KindInternal:    http.StatusInternalServerError,
}

var messageOfKind = map[kyc.Kind]string{
	kyc.KindInvalid:     "error.invalid",
	kyc.KindNotFound:    "error.notfound",
	kyc.KindConflict:    "error.conflict",
	kyc.KindForbidden:   "error.forbidden",
	kyc.KindTooLarge:    "error.toolarge",
	kyc.KindRateLimited: "error.ratelimit",
	kyc.KindInternal:    "error.internal",
}

// failErr renders the error page for an error of the service. Internal
// errors go to the log with the route (never personal data: the service's
// errors carry ids and kinds only); the page says "something went wrong".
func (s *site) failErr(w http.ResponseWriter, r *http.Request, err error) {
	k := kyc.KindOf(err)
	if k == kyc.KindInternal {
		s.cfg.log().ErrorContext(r.Context(), "page failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	s.fail(w, r, statusOf[k], messageOfKind[k])
}

// problem is the JSON error of the pages' script endpoints: a code and a
// message in the page's language.
// problem is an RFC 9457 problem details answer of the pages' own JSON
// endpoints (the page's script reads detail), in the shape the JSON API
// answers (shared/httpapi): type, title, status, detail and the code.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

func (s *site) problemOf(r *http.Request, err error) (int, problem) {
	k := kyc.KindOf(err)
	if k == kyc.KindInternal {
		s.cfg.log().ErrorContext(r.Context(), "page request failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	code := kyc.CodeOf(err)
	if code == "" {
		code = "internal"
	}
	status := statusOf[k]
	return status, problem{Type: "urn:kycgate:problem:" + code, Title: http.StatusText(status), Status: status,
		Detail: text(language(r), messageOfKind[k]), Code: code}
}

// localPath keeps a "next" location on this site's pages (no open
// redirect): a path under base, without scheme, host or backslashes.
func localPath(next, base string) string {
	if next == "" || !strings.HasPrefix(next, base) || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return base
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return base
	}
	u.Path = path.Clean(u.Path)
	if u.Path != base && !strings.HasPrefix(u.Path, base+"/") {
		return base
	}
	u.RawPath = ""
	return u.RequestURI()
}

var errBadForm = errors.New("malformed form")
