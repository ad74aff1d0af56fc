package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/signin/signintest"
	"github.com/kycgate/kycgate/shared/web/webtest"
	"github.com/kycgate/kycgate/shared/wiring"
)

// pageSite is the two page-serving functions of a bench system, built as
// Lambda builds them with the operator's settings the stack leaves open (a
// sign-in key, a staff issuer) given by the bench.
type pageSite struct {
	s       *system
	mux     *http.ServeMux
	signer  signintest.Signer
	issuer  *webtest.Issuer
	public  string
	cookies map[string]map[string]string // by person
}

func newPageSite(b *testing.B, s *system) *pageSite {
	ps := &pageSite{s: s, mux: http.NewServeMux(), signer: signintest.NewEd25519(b, "k1"), public: "http://127.0.0.1:8080",
		cookies: map[string]map[string]string{}}
	ps.issuer = webtest.NewIssuer(b, s.st.Functions[contract.FunctionAdminAPI].Env[contract.EnvOIDCClientID])
	keys := `[{"kid":"k1","alg":"EdDSA","publicKey":"` + strings.ReplaceAll(ps.signer.PEM, "\n", `\n`) + `"}]`
	over := map[string]string{contract.EnvPublicURL: ps.public, contract.EnvSigninKeys: keys,
		contract.EnvSigninAudience: ps.public + "/verify", contract.EnvOIDCIssuer: ps.issuer.URL}
	h := wiring.Host{Clock: s.clock.Now, Log: slog.New(slog.DiscardHandler), Metrics: io.Discard, Auth: nopAuth{}}
	for _, name := range []string{contract.FunctionCustomerAPI, contract.FunctionAdminAPI} {
		env := s.st.Functions[name].Env
		def, _ := wiring.Lookup(name)
		f, err := def.Build(context.Background(), func(k string) string {
			if v, ok := over[k]; ok {
				return v
			}
			return env[k]
		}, s.c, h)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range contract.PageRoutesOf(name) {
			ps.mux.Handle(r.Pattern, f.HTTP)
		}
	}
	return ps
}

// serve sends a request to the pages as a browser of person does.
func (ps *pageSite) serve(person, method, target string, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, ps.public+target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range ps.cookies[person] {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := httptest.NewRecorder()
	ps.mux.ServeHTTP(w, req)
	if ps.cookies[person] == nil {
		ps.cookies[person] = map[string]string{}
	}
	for _, c := range w.Result().Cookies() {
		ps.cookies[person][c.Name] = c.Value
	}
	return w
}

func (ps *pageSite) signInCustomer(b *testing.B, id string) {
	tok := ps.signer.Sign(b, jwt.MapClaims{"iss": "whmcs", "aud": ps.public + "/verify", "sub": id, "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Minute).Unix(), "jti": signintest.JTI(b)}, nil)
	if w := ps.serve(id, "POST", "/verify/signin", url.Values{"token": {tok}}); w.Code != http.StatusSeeOther {
		b.Fatalf("customer sign-in: %d %s", w.Code, w.Body)
	}
}

func (ps *pageSite) signInStaff(b *testing.B, sub string, groups ...string) {
	start := ps.serve(sub, "GET", "/console/signin", nil)
	ps.issuer.SignIn(webtest.Person{Subject: sub, Groups: groups})
	cb, _ := url.Parse(ps.issuer.Authorize(b, start.Header().Get("Location")))
	if w := ps.serve(sub, "GET", cb.RequestURI(), nil); w.Code != http.StatusSeeOther {
		b.Fatalf("staff sign-in: %d %s", w.Code, w.Body)
	}
}

var assetRE = regexp.MustCompile(`(?:href|src)="(/(?:verify|console)/assets/[^"]+)"`)

func gzipped(b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Len()
}

// nopAuth: the JSON API is not exercised here.
type nopAuth struct{}

func (nopAuth) Authenticate(*http.Request) (httpapi.Identity, error) {
	return httpapi.Identity{}, errors.New("the pages' benchmark sends no bearer token")
}

// BenchmarkPages measures each page people use: the bytes a browser
// transfers for one view (compressed) and the AWS calls the function makes.
func BenchmarkPages(b *testing.B) {
	s := newSystem(b)
	ps := newPageSite(b, s)
	cust := fresh("p")
	s.order("o-"+cust, cust, "kyc-vps", s.clock.Now().Add(-time.Hour))
	sub := s.submitted(cust)
	s.drain(contract.FunctionNotifier)
	ps.signInCustomer(b, cust)
	ps.signInStaff(b, "staff-1", contract.GroupReviewers)
	ps.signInStaff(b, "admin-1", contract.GroupAdmins)
	if w := ps.serve("staff-1", "POST", "/console/submissions/"+sub+"/claim", url.Values{}); w.Code != http.StatusSeeOther {
		b.Fatalf("claim: %d", w.Code)
	}
	pages := []struct {
		name, person, route, target string
		function                    string
		minimum                     int
		why                         string
		above                       []string
	}{
		{"the customer's page (in review)", cust, "GET /verify", "/verify", contract.FunctionCustomerAPI, 1,
			"one Query of the customer's partition (record, documents, closed holds): the status view", nil},
		{"the console's queue", "staff-1", "GET /console", "/console", contract.FunctionAdminAPI, 1,
			"one Query of the review queue index", nil},
		{"the review page (the claimer's)", "staff-1", "GET /console/submissions/{id}", "/console/submissions/" + sub, contract.FunctionAdminAPI, 3,
			"GetItem of the submission, one Query of the customer's partition, and one TransactWriteItems that audits the two links it issues (as the API's view does)",
			[]string{"one Query of the audit trail: which documents the claimer has opened (D29)",
				"one Query of the customer's partition and one of the audit trail: the earlier submissions and decisions shown beside the documents"}},
		{"a customer", "staff-1", "GET /console/customers/{id}", "/console/customers/" + cust, contract.FunctionAdminAPI, 2,
			"one Query of the customer's partition and one of the audit trail",
			[]string{"GetItem of the customer and one more Query of the audit trail: the audit chain verified on the page"}},
		{"an order", "staff-1", "GET /console/orders/{id}", "/console/orders/o-" + cust, contract.FunctionAdminAPI, 3,
			"GetItem of ORDER#<id> (its customer), the hold (in the customer's record), one Query of the audit trail", nil},
		{"disclosures (admins)", "admin-1", "GET /console/disclosures", "/console/disclosures", contract.FunctionAdminAPI, 0,
			"a form: nothing to read", nil},
	}
	var results []PageResult
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var r PageResult
			for i := 0; i < b.N; i++ {
				var w *httptest.ResponseRecorder
				m := s.measure(func() { w = ps.serve(pg.person, "GET", pg.target, nil) })
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", pg.target, w.Code, w.Body)
				}
				html := w.Body.Bytes()
				r = PageResult{Name: pg.name, Route: pg.route, Function: pg.function, HTMLBytes: len(html), HTMLGzip: gzipped(html),
					Calls: map[string]int{}, Total: len(m.Calls), Minimum: pg.minimum, MinimumWhy: pg.why, Above: pg.above}
				for _, c := range m.Calls {
					r.Calls[c]++
				}
				for _, a := range assetRE.FindAllStringSubmatch(string(html), -1) {
					aw := ps.serve(pg.person, "GET", a[1], nil)
					if aw.Code != http.StatusOK {
						b.Fatalf("%s: %d", a[1], aw.Code)
					}
					r.AssetsGzip += gzipped(aw.Body.Bytes())
					r.Assets = append(r.Assets, a[1][strings.LastIndex(a[1], "/")+1:])
				}
				r.TotalGzip = r.HTMLGzip + r.AssetsGzip
			}
			b.ReportMetric(float64(r.TotalGzip), "bytes-gzip/view")
			b.ReportMetric(float64(r.Total), "aws-calls/view")
			b.Logf("%s: %d bytes gzip (%d HTML), %d AWS calls %v", pg.name, r.TotalGzip, r.HTMLGzip, r.Total, sortedCalls(r.Calls))
			if r.TotalGzip >= TargetPageGzip {
				b.Errorf("%s transfers %d bytes compressed, over %d", pg.name, r.TotalGzip, TargetPageGzip)
			}
			results = append(results, r)
		})
	}
	save(b, FilePages, results)
}
