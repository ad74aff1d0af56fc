package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kycgate/kycgate/shared/guardduty"
)

// The pages in a real browser, as people use them: a customer signs in the
// way the billing system signs them in, uploads both documents from files
// (and a phone photo, scaled down in the browser), submits; a reviewer
// signs in with OpenID Connect at the local issuer, finds the submission,
// claims it, sees both documents drawn (the image decoded, the PDF shown),
// rotates one, records the document's number and checks it (no other
// account has it), and approves by keyboard; a second reviewer sees the
// claim and cannot decide; the customer's page then says verified, in
// Traditional Chinese; a rejection shows its reason in the customer's
// language; the malware scan refuses the EICAR test file, said in the
// customer's language. The second customer sends the same document number
// again: the reviewer sees it was verified on the first customer's account,
// approves, and the approval waits; an admin signs in, opens the documents
// for a stated purpose and gives the second approval. Every page passes
// axe-core and is photographed.
// docNumber is the identity document number both customers' documents
// carry (a Hong Kong identity card number with a valid check digit), and
// recentBill the date of their statements.
var (
	docNumber  = "A123456(3)"
	recentBill = time.Now().AddDate(0, 0, -20).Format("2006-01-02")
)

func TestPagesInABrowser(t *testing.T) {
	alloc := chromium(t)
	g := startGate(t)
	samples := filepath.Join(g.root, "infra", "local", "dev", "samples")
	g.order("6001", "9601", "2001", time.Now().Add(-2*time.Hour))
	g.order("6002", "9602", "2002", time.Now().Add(-3*time.Hour))

	// Signed out: each page says how to sign in.
	visitor := g.person(t, alloc, "visitor")
	visitor.shoot(g, "verify-signin", "/verify", "")
	visitor.sees("Sign in to verify your identity")
	visitor.shoot(g, "console-signin", "/console", "")

	// A customer signs in as `make -s signin ROLE=customer SUB=2001` does.
	c := g.person(t, alloc, "customer 2001")
	c.do("open the sign-in URL", chromedp.Navigate(g.signinURL("customer", "2001")))
	c.waitFor("the verification page", `location.pathname === "/verify" && !!document.getElementById("upload")`)
	c.sees("Not verified", "Customer 2001", "6001", "Waiting for your documents", "Passport and other travel documents")
	if strings.Contains(c.location(), "token") {
		t.Fatal("the token is in the URL")
	}
	c.shoot(g, "verify-start", "/verify", "")

	// Both documents from files, with progress, validated by the stack.
	if _, events := c.upload("identity", "passport", filepath.Join(samples, "passport.jpg"), "#file"); events < 1 {
		t.Errorf("no progress shown for the passport (%d events)", events)
	}
	c.upload("address", "bank_statement", filepath.Join(samples, "bank-statement.pdf"), "#file")
	// A phone photo of about 8 MB is scaled down in the browser before it
	// is sent: at most 2 MB.
	photo := bigPhoto(t)
	sent, events := c.upload("identity", "driving_license", photo, "#photo")
	if sent <= 0 || sent > 2<<20 || events < 1 {
		t.Errorf("the 8 MB photo went as %d bytes with %d progress events; want ≤ 2 MiB, with progress", sent, events)
	}
	c.sees("Uploaded and checked", "Passport and other travel documents", "Bank / credit card statement", "Driving license")
	c.shoot(g, "verify-uploaded", "/verify", "")

	// Submit the passport and the statement.
	eval[chromedp.Void](c, `(function () {
		var s = document.getElementById("sub-identity");
		for (var i = 0; i < s.options.length; i++) if (s.options[i].text.indexOf("Passport") === 0) s.value = s.options[i].value;
	})()`)
	c.do("submit", chromedp.Click("#submit"))
	c.waitFor("the in-review page", `location.search.indexOf("submitted=1") >= 0`)
	c.sees("In review", "What happens next", "A reviewer checks both documents")
	c.shoot(g, "verify-in-review", "/verify", "")

	// A reviewer signs in (make -s signin ROLE=reviewer SUB=staff-7) and
	// finds the submission in the queue.
	r := g.person(t, alloc, "reviewer staff-7")
	r.do("open the sign-in URL", chromedp.Navigate(g.signinURL("reviewer", "staff-7")))
	r.waitFor("the queue", `location.pathname === "/console" && !!document.getElementById("queue")`)
	r.sees("Submissions waiting for review", "2001", "staff-7")
	r.shoot(g, "console-queue", "/console", "")
	sub := r.queuedOf("2001")
	if sub == "" {
		t.Fatalf("the queue does not list customer 2001's submission:\n%s", r.text())
	}
	r.do("open the submission", chromedp.Click(`tr[data-submission="`+sub+`"] a.button`))
	r.waitFor("the review page", `location.pathname.indexOf("/console/submissions/") === 0 && !!document.getElementById("claim")`)
	r.do("claim by keyboard", chromedp.KeyEvent("c"))
	drawn := `!!(document.querySelector("#doc-identity[data-rendered]") && document.querySelector("#doc-address[data-rendered]"))`
	r.waitFor("both documents drawn", `!!document.getElementById("record") && !!(`+drawn+`)`)
	if got := eval[string](r, `document.getElementById("doc-identity").getAttribute("data-rendered") + " " + document.getElementById("doc-address").getAttribute("data-rendered")`); got != "image pdf" {
		t.Fatalf("documents drawn as %q, want the image decoded and the PDF shown", got)
	}
	if w := eval[int](r, `document.querySelector("#doc-identity .doc-img").naturalWidth`); w != 250 {
		t.Errorf("the passport decoded %d px wide, want 250", w)
	}
	r.do("rotate the passport", chromedp.Click(`#doc-identity [data-act="rotate"]`))
	if got := eval[string](r, `document.querySelector("#doc-identity .viewer").getAttribute("data-rotation")`); got != "90" {
		t.Errorf("rotation %q, want 90", got)
	}
	r.sees("Keyboard shortcuts", "approve both documents", "Message to the customer", "Internal note", "check what you recorded")

	// The reviewer records the number and the statement's date, and checks
	// them (k): no other account has the number.
	r.do("record the number and check", chromedp.SendKeys("#docNumber", docNumber), chromedp.SendKeys("#addressDate", recentBill),
		chromedp.Blur("#addressDate"), chromedp.KeyEvent("k"))
	r.waitFor("the signals", `location.pathname.endsWith("/record") && !!document.getElementById("signals")`)
	r.sees("Recorded.", "What the gate found", "No other account recorded this document number.", "Within three months of")

	// A second reviewer sees the claim and cannot decide.
	r2 := g.person(t, alloc, "reviewer staff-8")
	r2.do("open the sign-in URL", chromedp.Navigate(g.signinURL("reviewer", "staff-8")))
	r2.waitFor("the queue", `location.pathname === "/console" && !!document.getElementById("queue")`)
	r2.sees("staff-7")
	r2.do("open the claimed submission", chromedp.Navigate(g.url+"/console/submissions/"+sub))
	r2.sees("Claimed by", "staff-7", "Claim the submission to see its documents")
	if eval[bool](r2, `!!document.getElementById("record") || !!document.querySelector(".doc-img")`) {
		t.Fatal("a second reviewer sees the documents or the decision form")
	}
	r2.do("try to claim", chromedp.Click("#claim"))
	r2.waitFor("the refusal", `document.readyState === "complete" && !!document.querySelector(".error")`)
	r2.sees("This changed in the meantime")

	// Photographs of the review page before deciding.
	// (The PDF viewer paints a moment after the document is handed to it.)
	r.shoot(g, "console-review", "/console/submissions/"+sub, drawn, 1500*time.Millisecond)
	r.shoot(g, "console-customer", "/console/customers/2001", "")
	r.shoot(g, "console-order", "/console/orders/6001", "")

	// Approve by keyboard: a (both documents), then Enter on "Record decision".
	r.do("back to the review", chromedp.Navigate(g.url+"/console/submissions/"+sub))
	r.waitFor("both documents drawn", drawn)
	r.do("approve by keyboard", chromedp.KeyEvent("a"))
	if eval[string](r, `document.activeElement.id`) != "record" {
		t.Fatal(`"a" did not move to "Record decision"`)
	}
	r.do("record", chromedp.KeyEvent(kb.Enter))
	r.waitFor("the recorded decision", `location.search.indexOf("done=1") >= 0`)
	r.sees("Decision recorded", "This submission is decided")

	// The customer's page says verified, in Traditional Chinese.
	c.do("reload in Chinese", chromedp.Navigate(g.url+"/verify?lang=zh-Hant"))
	c.sees("已驗證", "您已通過驗證")
	c.shoot(g, "verify-verified", "/verify", "")

	// A rejection shows its reason in the customer's language.
	c2 := g.person(t, alloc, "customer 2002")
	c2.do("open the sign-in URL", chromedp.Navigate(g.signinURL("customer", "2002")))
	c2.waitFor("the verification page", `!!document.getElementById("upload")`)
	c2.do("switch to Chinese", chromedp.Click("a.lang"))
	c2.waitFor("the Chinese page", `document.documentElement.lang === "zh-Hant" && !!document.getElementById("upload")`)
	c2.upload("identity", "national_id", filepath.Join(samples, "passport.jpg"), "#file")
	c2.upload("address", "utility_bill", filepath.Join(samples, "bank-statement.pdf"), "#file")
	c2.do("submit", chromedp.Click("#submit"))
	c2.waitFor("in review", `location.search.indexOf("submitted=1") >= 0`)
	r.do("back to the queue", chromedp.Navigate(g.url+"/console?show=unclaimed"))
	sub2 := r.queuedOf("2002")
	if sub2 == "" {
		t.Fatalf("the unclaimed queue does not list customer 2002:\n%s", r.text())
	}
	r.do("open and claim", chromedp.Navigate(g.url+"/console/submissions/"+sub2), chromedp.Click("#claim"))
	r.waitFor("the decision form", `!!document.getElementById("record")`)
	r.do("reject the bill", chromedp.KeyEvent("1"), chromedp.KeyEvent("4"),
		chromedp.Click(`#verdict-address input[value="too_old"]`),
		chromedp.SendKeys("#message", "請上載最近三個月內的帳單。"),
		chromedp.SendKeys("#note", "Bill dated last year."),
		chromedp.Click("#record"))
	r.waitFor("the recorded decision", `location.search.indexOf("done=1") >= 0`)
	c2.do("reload", chromedp.Navigate(g.url+"/verify"))
	c2.sees("需要處理", "對帳單或帳單已超過三個月。", "請上載最近三個月內的帳單。")
	if strings.Contains(c2.text(), "Bill dated last year") {
		t.Fatal("the customer sees the internal note")
	}
	c2.shoot(g, "verify-rejected", "/verify", "")

	// The EICAR test file, uploaded as a statement: the malware scan
	// refuses it, and the page says so in the customer's language.
	eicar := filepath.Join(t.TempDir(), "statement.pdf")
	if err := os.WriteFile(eicar, guardduty.EICAR(), 0o644); err != nil {
		t.Fatal(err)
	}
	c2.do("reload in Chinese", chromedp.Navigate(g.url+"/verify?lang=zh-Hant"))
	if said := c2.uploadRefused("address", "tax_return", eicar, "#file"); !strings.Contains(said, "文件被拒絕") || !strings.Contains(said, "惡意軟件掃描在此文件中發現威脅") {
		t.Fatalf("the EICAR upload: the page says %q", said)
	}
	// A new statement, sent with the identity card approved before.
	c2.do("reload", chromedp.Navigate(g.url+"/verify"))
	c2.upload("address", "tax_return", filepath.Join(samples, "bank-statement.pdf"), "#file")
	c2.sees("被拒絕", "我們的惡意軟件掃描在此文件中發現威脅")
	c2.do("submit again", chromedp.Click("#submit"))
	c2.waitFor("in review again", `location.search.indexOf("submitted=1") >= 0`)

	// The reviewer records the same number as the first customer's: the
	// gate says it was verified on 2001's account, and the approval waits
	// for a second admin.
	r.do("back to the queue", chromedp.Navigate(g.url+"/console?show=unclaimed"))
	sub3 := r.queuedOf("2002")
	if sub3 == "" || sub3 == sub2 {
		t.Fatalf("the unclaimed queue does not list customer 2002's new submission:\n%s", r.text())
	}
	r.do("open and claim", chromedp.Navigate(g.url+"/console/submissions/"+sub3), chromedp.Click("#claim"))
	r.waitFor("both documents drawn", `!!document.getElementById("record") && !!(`+drawn+`)`)
	r.do("record the same number and check", chromedp.SendKeys("#docNumber", docNumber), chromedp.SendKeys("#addressDate", recentBill),
		chromedp.Blur("#addressDate"), chromedp.KeyEvent("k"))
	r.waitFor("the signals", `location.pathname.endsWith("/record") && !!document.getElementById("signals")`)
	r.sees("Approving this submission needs a second admin", "The same document on other accounts", "2001", "verified there",
		"Hong Kong identity card")
	if eval[string](r, `document.querySelector("#signals-same a").getAttribute("href")`) != "/console/customers/2001" {
		t.Error("the other account is not linked to its customer page")
	}
	r.shoot(g, "console-review-signals", "/console/submissions/"+sub3, drawn, 1500*time.Millisecond)
	r.do("approve by keyboard", chromedp.KeyEvent("a"), chromedp.KeyEvent(kb.Enter))
	r.waitFor("the approval waiting", `location.search.indexOf("done=waiting") >= 0`)
	r.sees("Your approval is recorded but not committed", "Approval waiting for a second admin", "You requested it")

	// An admin signs in, opens the documents for the second approval (a
	// stated purpose, audited) and approves.
	a := g.person(t, alloc, "admin-1")
	a.do("open the sign-in URL", chromedp.Navigate(g.signinURL("admin", "admin-1")))
	a.waitFor("the queue", `location.pathname === "/console"`)
	a.do("open the waiting submission", chromedp.Navigate(g.url+"/console/submissions/"+sub3))
	a.sees("Approval waiting for a second admin", "requested by staff-7", "To answer, open the documents with a purpose")
	a.do("state the purpose", chromedp.Click("#open-purpose"))
	a.waitFor("the documents and the answer", `!!document.getElementById("second-approve") && !!(`+drawn+`)`)
	a.sees("Opened for", "second approval (audited)", "verified there", "2001")
	a.shoot(g, "console-second-approval", "/console/submissions/"+sub3+"?purpose=second+approval", drawn, 1500*time.Millisecond)
	a.do("approve as the second admin", chromedp.Click("#second-approve"))
	a.waitFor("the approval", `location.search.indexOf("done=approved") >= 0`)
	a.sees("Approved as the second admin", "Second approval by", "admin-1")
	c2.do("reload", chromedp.Navigate(g.url+"/verify"))
	c2.sees("已驗證")

	// An admin's pages.
	a.shoot(g, "console-disclosures", "/console/disclosures", "")
	if strings.Contains(g.logs.String(), "請上載") || strings.Contains(g.logs.String(), "Bill dated") || strings.Contains(g.logs.String(), docNumber) {
		t.Error("a reviewer's text is in the log")
	}
}
