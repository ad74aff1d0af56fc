package dev

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
)

// Email is an e-mail the emulator's SES accepted.
type Email struct {
	ID      string   `json:"id"`
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"` // the HTML part when there is one (moto keeps that), else the text
}

// SentEmails returns the e-mails the emulator's SES accepted, oldest first:
// moto keeps them in its state dump (GET /moto-api/data.json, ses.Message),
// LocalStack at GET /_aws/ses.
func SentEmails(ctx context.Context, endpoint string) ([]Email, error) {
	moto, err := motoEmails(ctx, endpoint)
	if err == nil {
		return moto, nil
	}
	ls, lerr := localstackEmails(ctx, endpoint)
	if lerr == nil {
		return ls, nil
	}
	return nil, fmt.Errorf("the emulator at %s shows no sent e-mails (moto: %v; LocalStack: %v)", endpoint, err, lerr)
}

func getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

func motoEmails(ctx context.Context, endpoint string) ([]Email, error) {
	var data struct {
		SES *struct {
			Message []struct {
				ID           string              `json:"id"`
				Source       string              `json:"source"`
				Subject      string              `json:"subject"`
				Body         string              `json:"body"`
				Destinations map[string][]string `json:"destinations"`
			} `json:"Message"`
		} `json:"ses"`
	}
	if err := holdKeyRestores(ctx, endpoint); err != nil {
		return nil, err
	}
	if err := getJSON(ctx, endpoint+"/moto-api/data.json", &data); err != nil {
		return nil, err
	}
	out := []Email{}
	if data.SES == nil {
		return out, nil
	}
	for _, m := range data.SES.Message {
		to := m.Destinations["ToAddresses"]
		if to == nil {
			to = []string{}
		}
		out = append(out, Email{ID: m.ID, From: m.Source, To: to, Subject: m.Subject, Body: m.Body})
	}
	return out, nil
}

// holdKeyRestores keeps moto's S3 objects from moving through their restore
// states. The state dump reads every object's restore status, and each read
// moves an object on to "restored" (moto 5.2's default transition), which
// looks up its bucket: one object of a bucket deleted since (a stack the
// tests destroyed) fails the whole dump. Nothing here restores objects, so
// the transition is held (moto's state manager, manual progression).
func holdKeyRestores(ctx context.Context, endpoint string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body := `{"model_name": "s3::keyrestore", "transition": {"progression": "manual", "times": 1000000000}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/moto-api/state-manager/set-transition", strings.NewReader(body))
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %s", req.URL, res.Status)
	}
	return nil
}

func localstackEmails(ctx context.Context, endpoint string) ([]Email, error) {
	var data struct {
		Messages []struct {
			ID          string `json:"Id"`
			Source      string `json:"Source"`
			Subject     string `json:"Subject"`
			Destination struct {
				ToAddresses []string `json:"ToAddresses"`
			} `json:"Destination"`
			Body struct {
				Text string `json:"text_part"`
				HTML string `json:"html_part"`
			} `json:"Body"`
		} `json:"messages"`
	}
	if err := getJSON(ctx, endpoint+"/_aws/ses", &data); err != nil {
		return nil, err
	}
	out := []Email{}
	for _, m := range data.Messages {
		body := m.Body.HTML
		if body == "" {
			body = m.Body.Text
		}
		out = append(out, Email{ID: m.ID, From: m.Source, To: m.Destination.ToAddresses, Subject: m.Subject, Body: body})
	}
	return out, nil
}

// localRoutes are the dev server's own routes under /local/: they exist
// only locally, to see what the stack did.
func (s *Server) localRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /local/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, strings.Join([]string{
			"Local-only routes of the KYC gate's dev server:",
			"  GET  /local/health             ready, with the emulator endpoint and the functions",
			"  GET  /local/billing/commands   every command the billing sink received (ModuleCreate, ModuleSuspend, ...)",
			"  GET  /local/billing/services   the sink's services: status and next due date",
			`  POST /local/billing/services/{serviceId} {"nextDueDate":"YYYY-MM-DD"}   moves a service's due date as a payment does`,
			"  GET  /local/billing/orders     the sink's orders and their payment (service S belongs to order S)",
			`  POST /local/billing/orders/{orderId} {"paymentStatus":"Unpaid"|"Paid"} or {"status":"Cancelled"}   an order's invoice or status`,
			`  POST /local/billing/products/{productId} {"module":""}   a product without a provisioning module (the sink's services are product 1)`,
			"  GET  /local/billing/tickets    the sink's support tickets (KYC cases, setup tickets) with their replies",
			`  GET  /local/clock              the functions' "now": {"now": "<RFC 3339>"}`,
			`  POST /local/clock {"advance":"73h"}   moves that clock forward (tokens keep real time)`,
			"  GET  /local/emails             the e-mails the emulator's SES accepted (?to=<address> filters)",
			"  GET  /local/substitutions      how the local stack differs from the synthesized template",
			"  GET  " + OpenAPIPath + "             the OpenAPI 3.1 document of the HTTP API",
			"  POST " + SinkPath + "/includes/api.php   the billing sink's WHMCS API (what billing-adapter calls)",
			"  POST " + SigninPath + "               {role, sub}: a one-time URL that signs that person in (make -s signin)",
			"  GET  " + OIDCPath + "/.well-known/openid-configuration   the local staff issuer (the console signs in here)",
			"",
		}, "\n"))
	})
	mux.HandleFunc("GET /local/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"status":    "ok",
			"stack":     s.st.Prefix,
			"emulator":  s.st.Endpoint,
			"started":   s.emu.Started(),
			"functions": s.st.FunctionNames(),
			"sweepEvery": func() string {
				if s.sweepEvery <= 0 {
					return "off"
				}
				return s.sweepEvery.String()
			}(),
		})
	})
	mux.HandleFunc("GET /local/billing/commands", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.sink.Commands())
	})
	mux.HandleFunc("GET /local/billing/services", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.sink.Services())
	})
	mux.HandleFunc("GET /local/billing/tickets", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.sink.Tickets())
	})
	mux.Handle("GET /local/billing/orders", http.StripPrefix("/local/billing", s.sink))
	mux.HandleFunc("GET /local/substitutions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.subs)
	})
	mux.HandleFunc("GET /local/emails", func(w http.ResponseWriter, r *http.Request) {
		all, err := SentEmails(r.Context(), s.st.Endpoint)
		if err != nil {
			writeError(w, http.StatusBadGateway, "emulator", err.Error())
			return
		}
		if to := r.URL.Query().Get("to"); to != "" {
			kept := []Email{}
			for _, m := range all {
				for _, a := range m.To {
					if strings.EqualFold(a, to) {
						kept = append(kept, m)
						break
					}
				}
			}
			all = kept
		}
		writeJSON(w, http.StatusOK, all)
	})
	mux.Handle(SinkPath+"/", http.StripPrefix(SinkPath, s.sink))
	s.signin.routes(mux)
	s.clockRoutes(mux)
	mux.HandleFunc("GET "+OpenAPIPath, serveOpenAPI)
}

// OpenAPIPath is where the dev server serves the API's OpenAPI document.
const OpenAPIPath = "/openapi.yaml"

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(contract.OpenAPI)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeError answers in the API's error format (RFC 9457 problem details).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	httpapi.WriteProblem(w, status, code, msg)
}
