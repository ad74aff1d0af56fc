package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/kycgate/kycgate/shared/kyc"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Languages a notice is written in, in the order they appear when the
// customer's language is unknown.
var Languages = []string{kyc.LangEnglish, kyc.LangChinese}

// Message is a rendered notice.
type Message struct {
	Subject string
	Text    string
	HTML    string
}

// Renderer renders notices from the embedded templates: one text and one
// HTML template set per language, each with a "<EventType>.subject" (text
// only) and a "<EventType>.body".
type Renderer struct {
	portal string
	text   map[string]*template.Template
	html   map[string]*htmltemplate.Template
	layout *htmltemplate.Template
}

// NewRenderer parses the templates. portalURL is the one link a notice
// carries: the customer portal, where the customer must log in.
func NewRenderer(portalURL string) (*Renderer, error) {
	u, err := url.Parse(portalURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, fmt.Errorf("notify: portal URL %q must be an absolute http(s) URL", portalURL)
	}
	r := &Renderer{portal: portalURL, text: map[string]*template.Template{}, html: map[string]*htmltemplate.Template{}}
	funcs := map[string]any{"inc": func(i int) int { return i + 1 }}
	for _, lang := range Languages {
		t, err := template.New(lang).Funcs(funcs).Option("missingkey=error").ParseFS(templateFS, "templates/"+lang+".txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("notify: text templates %s: %w", lang, err)
		}
		h, err := htmltemplate.New(lang).Funcs(funcs).Option("missingkey=error").ParseFS(templateFS, "templates/"+lang+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("notify: HTML templates %s: %w", lang, err)
		}
		for _, typ := range kyc.CustomerNotices {
			for _, name := range []string{string(typ) + ".subject", string(typ) + ".body"} {
				if t.Lookup(name) == nil {
					return nil, fmt.Errorf("notify: %s has no text template %q", lang, name)
				}
			}
			if h.Lookup(string(typ)+".body") == nil {
				return nil, fmt.Errorf("notify: %s has no HTML template %q", lang, string(typ)+".body")
			}
		}
		r.text[lang], r.html[lang] = t, h
	}
	r.layout, err = htmltemplate.ParseFS(templateFS, "templates/layout.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("notify: layout: %w", err)
	}
	return r, nil
}

// LanguagesFor returns the languages to write to a customer in: theirs if it
// is one of Languages, all of them otherwise.
func LanguagesFor(lang string) []string {
	if slices.Contains(Languages, lang) {
		return []string{lang}
	}
	return Languages
}

// Render writes the notice of a customer event in the given languages (see
// LanguagesFor), each language's part after the other.
func (r *Renderer) Render(e kyc.Event, langs []string) (Message, error) {
	if !slices.Contains(kyc.CustomerNotices, e.Type) {
		return Message{}, fmt.Errorf("notify: %q is not a customer notice", e.Type)
	}
	if len(langs) == 0 {
		return Message{}, errors.New("notify: no language")
	}
	var subjects, texts []string
	type part struct {
		Lang string
		Body htmltemplate.HTML
	}
	var parts []part
	for _, lang := range langs {
		t, ok := r.text[lang]
		if !ok {
			return Message{}, fmt.Errorf("notify: no templates in %q", lang)
		}
		v := r.view(e, lang)
		subject, err := execText(t, string(e.Type)+".subject", v)
		if err != nil {
			return Message{}, err
		}
		text, err := execText(t, string(e.Type)+".body", v)
		if err != nil {
			return Message{}, err
		}
		var hb bytes.Buffer
		if err := r.html[lang].ExecuteTemplate(&hb, string(e.Type)+".body", v); err != nil {
			return Message{}, fmt.Errorf("notify: render %s HTML (%s): %w", e.Type, lang, err)
		}
		subjects = append(subjects, strings.TrimSpace(subject))
		texts = append(texts, strings.TrimSpace(text))
		// The body was produced by html/template, which escaped every value.
		parts = append(parts, part{Lang: lang, Body: htmltemplate.HTML(hb.String())})
	}
	subject := strings.Join(subjects, " / ")
	var hb bytes.Buffer
	if err := r.layout.ExecuteTemplate(&hb, "layout", map[string]any{"Lang": langs[0], "Subject": subject, "Parts": parts}); err != nil {
		return Message{}, fmt.Errorf("notify: render layout: %w", err)
	}
	return Message{
		Subject: subject,
		Text:    strings.Join(texts, "\n\n----------------------------------------\n\n") + "\n",
		HTML:    hb.String(),
	}, nil
}

func execText(t *template.Template, name string, v any) (string, error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, v); err != nil {
		return "", fmt.Errorf("notify: render %s: %w", name, err)
	}
	return b.String(), nil
}

// view is what the templates see: texts already in the notice's language,
// ids, dates, and the one link. It holds no personal data.
type view struct {
	Lang    string
	Portal  string
	OrderID string
	// Deadline is shown in the service region's time zone with UTC beside
	// it (UTC only when the event names no zone).
	Deadline   string
	Reviewing  bool
	VerifiedOn string
	ExpiresOn  string
	Categories []categoryView
	Documents  []documentView
	Reasons    []string
	Message    string
}

type categoryView struct {
	Label string
	Types []string
}

type documentView struct {
	Category string
	Result   string
	Reasons  []string
}

func (r *Renderer) view(e kyc.Event, lang string) view {
	v := view{Lang: lang, Portal: r.portal, OrderID: e.OrderID, Message: SanitizeMessage(e.CustomerMessage), Reviewing: e.Reviewing}
	if e.Deadline != nil {
		v.Deadline = FormatTime(*e.Deadline, e.TimeZone, lang)
	}
	if e.VerifiedAt != nil {
		v.VerifiedOn = e.VerifiedAt.UTC().Format(time.DateOnly)
	}
	if e.ExpiresAt != nil {
		v.ExpiresOn = e.ExpiresAt.UTC().Format(time.DateOnly)
	}
	for _, c := range kyc.Catalogue {
		cv := categoryView{Label: label(c.Label, lang)}
		for _, t := range c.Types {
			s := label(t.Label, lang)
			if len(t.Utilities) > 0 {
				var subs []string
				for _, u := range t.Utilities {
					subs = append(subs, label(u.Label, lang))
				}
				sep, lp, rp := ", ", " (", ")"
				if lang == kyc.LangChinese {
					sep, lp, rp = "、", "（", "）"
				}
				s += lp + strings.Join(subs, sep) + rp
			}
			cv.Types = append(cv.Types, s)
		}
		v.Categories = append(v.Categories, cv)
	}
	for _, d := range e.Documents {
		dv := documentView{Category: categoryLabel(d.Category, d.Type, lang), Result: resultText(d.Result, lang)}
		for _, code := range d.Reasons {
			dv.Reasons = append(dv.Reasons, reasonText(code, lang))
		}
		v.Documents = append(v.Documents, dv)
	}
	for _, code := range e.Reasons {
		v.Reasons = append(v.Reasons, reasonText(code, lang))
	}
	return v
}

// FormatTime writes a time as customers are shown it: in the service
// region's time zone (an IANA name), with UTC beside it; in UTC only when
// the zone is unknown. "2026-03-05 18:00 (Asia/Hong_Kong; 2026-03-05 10:00 UTC)".
func FormatTime(t time.Time, zone, lang string) string {
	const layout = "2006-01-02 15:04"
	lt := kyc.InZone(t, zone)
	if !lt.HasLocal {
		return lt.UTC.Format(layout) + " UTC"
	}
	if lang == kyc.LangChinese {
		return lt.Local.Format(layout) + "（" + lt.Zone + " 時間；UTC " + lt.UTC.Format(layout) + "）"
	}
	return lt.Local.Format(layout) + " (" + lt.Zone + "; " + lt.UTC.Format(layout) + " UTC)"
}

func label(l kyc.Label, lang string) string {
	if lang == kyc.LangChinese {
		return l.ZhHant
	}
	return l.En
}

// categoryLabel names a document in a verdict: its type's label when known,
// else its category's.
func categoryLabel(c kyc.Category, t kyc.DocType, lang string) string {
	if _, ts, ok := kyc.LookupType(t); ok {
		return label(ts.Label, lang)
	}
	for _, cs := range kyc.Catalogue {
		if cs.Category == c {
			return label(cs.Label, lang)
		}
	}
	return string(c)
}

func resultText(r kyc.DocResult, lang string) string {
	texts := map[kyc.DocResult]kyc.Label{
		kyc.ResultApproved: {En: "accepted", ZhHant: "已接受"},
		kyc.ResultResubmit: {En: "please upload a new document", ZhHant: "請重新上傳文件"},
		kyc.ResultRejected: {En: "not accepted; please contact our support team", ZhHant: "不獲接受，請聯絡我們的客戶服務團隊"},
	}
	if l, ok := texts[r]; ok {
		return label(l, lang)
	}
	return label(kyc.Label{En: "not accepted", ZhHant: "不獲接受"}, lang)
}

// reasonText is a reason's customer-facing text; an unknown code reads as
// the catalogue's "other" reason.
func reasonText(c kyc.ReasonCode, lang string) string {
	spec, ok := kyc.LookupReason(c)
	if !ok {
		spec, _ = kyc.LookupReason("other")
	}
	return label(spec.Text, lang)
}

// MaxMessageRunes bounds the reviewer's message in a notice.
const MaxMessageRunes = 2000

var (
	linkPattern = regexp.MustCompile(`(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)\S*`)
	// A run of letters and digits with five or more digits: a document,
	// account or phone number, which a notice must not carry.
	numberPattern = regexp.MustCompile(`[A-Za-z0-9]*[0-9][A-Za-z0-9]*`)
)

// SanitizeMessage makes a reviewer's free-text message fit for an e-mail:
// control characters dropped, links removed (the portal is the only link a
// notice has), anything that looks like a document number masked, and the
// length bounded.
func SanitizeMessage(m string) string {
	m = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, m)
	m = linkPattern.ReplaceAllString(m, "[…]")
	m = numberPattern.ReplaceAllStringFunc(m, func(s string) string {
		digits := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits >= 5 {
			return "***"
		}
		return s
	})
	if r := []rune(m); len(r) > MaxMessageRunes {
		m = string(r[:MaxMessageRunes]) + "…"
	}
	return strings.TrimSpace(m)
}
