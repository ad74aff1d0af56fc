package kyctest_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/filecheck"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

func TestFiles(t *testing.T) {
	ctx := context.Background()
	clock := kyctest.NewClock(kyctest.Epoch)
	f := kyctest.NewFiles(kyctest.KMSKeyARN, clock.Now)
	d := kyc.Document{ID: "d-1", CustomerID: "c-1", Type: kyc.Passport, ContentType: kyc.JPEG, Key: kyc.DocumentKey("c-1", "d-1"),
		DeclaredSize: 100}

	t.Run("the form pins the object and its size, and refuses what S3 would", func(t *testing.T) {
		up, err := f.PresignUpload(ctx, d, 1000, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		p, err := kyctest.Policy(up)
		if err != nil || p.Key != d.Key || p.MinSize != 100 || p.MaxSize != 100 || p.KMSKeyID != kyctest.KMSKeyARN ||
			!p.Expiration.Equal(kyctest.Epoch.Add(10*time.Minute)) {
			t.Fatalf("policy %+v, %v", p, err)
		}
		for _, size := range []int{0, 1, 99, 101} {
			if _, err := f.Post(up, kyctest.Content(kyc.JPEG, size)); err == nil {
				t.Fatalf("a %d-byte file was taken for a declared 100", size)
			}
		}
		v1, err := f.Post(up, kyctest.Content(kyc.JPEG, 100))
		if err != nil {
			t.Fatal(err)
		}
		v2, _ := f.Post(up, kyctest.Content(kyc.PNG, 100))
		if v1 == v2 || !slices.Equal(f.Versions(d.Key), []string{v1, v2}) {
			t.Fatalf("versions %v", f.Versions(d.Key))
		}
		info, err := f.Inspect(ctx, d.Key, "")
		if err != nil || info.VersionID != v2 || info.Size != 100 || info.SSE != kyctest.SSEKMS || kyc.Sniff(info.Head) != kyc.PNG {
			t.Fatalf("current version %+v, %v", info, err)
		}
		clock.Advance(10 * time.Minute)
		if _, err := f.Post(up, kyctest.Content(kyc.JPEG, 10)); err == nil {
			t.Fatal("an expired form was taken")
		}
		if _, err := kyctest.Policy(kyc.Upload{Fields: map[string]string{"policy": "%%"}}); err == nil {
			t.Fatal("a form without a policy decoded")
		}
	})
	t.Run("presigning refuses what the S3 adapter refuses", func(t *testing.T) {
		for _, tt := range []struct {
			d      kyc.Document
			max    int64
			ttl    time.Duration
			reason string
		}{
			{d, 100, 0, "no ttl"},
			{d, 100, kyctest.MaxUploadTTL + 1, "ttl too long"},
			{d, 99, time.Minute, "declared size over the limit"},
			{kyc.Document{Key: d.Key, ContentType: kyc.JPEG}, 100, time.Minute, "no declared size"},
			{kyc.Document{ContentType: kyc.JPEG, DeclaredSize: 10}, 100, time.Minute, "no key"},
		} {
			if _, err := f.PresignUpload(ctx, tt.d, tt.max, tt.ttl); err == nil {
				t.Errorf("%s: presigned", tt.reason)
			}
		}
		if _, err := kyctest.NewFiles("", nil).PresignUpload(ctx, d, 100, time.Minute); err == nil {
			t.Error("presigned without a KMS key")
		}
		dv := d
		dv.VersionID = "v0001"
		if _, err := f.PresignView(ctx, dv, kyctest.MaxDownloadTTL+1); err == nil {
			t.Error("a view link over its limit")
		}
		if _, err := f.PresignExport(ctx, dv, kyctest.MaxExportTTL+1); err == nil {
			t.Error("an export link over its limit")
		}
		if _, err := f.PresignExport(ctx, kyc.Document{}, time.Minute); err == nil {
			t.Error("a link to no object")
		}
		if _, err := f.PresignView(ctx, d, time.Minute); err == nil {
			t.Error("a link to a document never validated")
		}
	})
	t.Run("an export link downloads the original; a view link shows the reviewed copy inline", func(t *testing.T) {
		dv := d
		dv.VersionID = "v0001"
		dv.Reviewed = &kyc.ReviewCopy{Key: kyc.ReviewedKey("c-1", "d-1"), VersionID: "v0009", ContentType: kyc.JPEG, Size: 50}
		for _, tt := range []struct {
			name        string
			presign     func(context.Context, kyc.Document, time.Duration) (kyc.Link, error)
			ttl         time.Duration
			path, query string
		}{
			{"export", f.PresignExport, time.Hour, "/docs/c-1/d-1", `versionId=v0001&disposition=attachment; filename="passport.jpg"`},
			{"view", f.PresignView, time.Minute, "/reviewed/c-1/d-1", `versionId=v0009&disposition=inline; filename="passport.jpg"`},
		} {
			link, err := tt.presign(ctx, dv, tt.ttl)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(link.URL)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			got := "versionId=" + q.Get("versionId") + "&disposition=" + q.Get("response-content-disposition")
			if u.Path != tt.path || got != tt.query || q.Get("response-content-type") != kyc.JPEG || !link.ExpiresAt.Equal(clock.Now().Add(tt.ttl)) {
				t.Fatalf("%s link %s expires %s", tt.name, link.URL, link.ExpiresAt)
			}
		}
		pdf := dv
		pdf.ContentType, pdf.Reviewed = kyc.PDF, nil
		link, _ := f.PresignView(ctx, pdf, time.Minute)
		if u, _ := url.Parse(link.URL); u.Path != "/docs/c-1/d-1" || u.Query().Get("response-content-type") != kyc.PDF {
			t.Fatalf("a PDF's view link %s: want its validated original", link.URL)
		}
	})
	t.Run("read and the reviewed copy", func(t *testing.T) {
		key := "docs/c-3/d-3"
		content := kyctest.Content(kyc.PNG, 300)
		v := f.Put(key, kyctest.Object{Content: content, ContentType: kyc.PNG, SSE: kyctest.SSEKMS, KMSKeyID: kyctest.KMSKeyARN})
		info, got, err := f.Read(ctx, key, v, 300)
		if err != nil || !info.Exists || info.Size != 300 || info.VersionID != v || info.SSE != kyctest.SSEKMS || string(got) != string(content) {
			t.Fatalf("read %+v, %d bytes, %v", info, len(got), err)
		}
		if info, got, err := f.Read(ctx, key, "", 299); err != nil || !info.Exists || info.Size != 300 || got != nil {
			t.Fatalf("read over the limit: %+v, %d bytes, %v; want the size and no content", info, len(got), err)
		}
		if info, _, err := f.Read(ctx, key, "v-none", 300); err != nil || info.Exists {
			t.Fatalf("a missing version: %+v, %v", info, err)
		}
		doc := kyc.Document{ID: "d-3", CustomerID: "c-3"}
		rc, err := f.WriteReviewed(ctx, doc, []byte("re-encoded"), kyc.PNG)
		if err != nil || rc.Key != "reviewed/c-3/d-3" || rc.ContentType != kyc.PNG || rc.Size != 10 || rc.VersionID == "" {
			t.Fatalf("reviewed copy %+v, %v", rc, err)
		}
		o, ok := f.Object(rc.Key, rc.VersionID)
		if !ok || string(o.Content) != "re-encoded" || o.SSE != kyctest.SSEKMS || o.KMSKeyID != kyctest.KMSKeyARN ||
			o.Tags[kyctest.TagState] != kyctest.StateUnsubmitted {
			t.Fatalf("stored copy %+v", o)
		}
		if _, err := f.WriteReviewed(ctx, kyc.Document{}, []byte("x"), kyc.PNG); err == nil {
			t.Fatal("wrote a copy of no document")
		}
		if _, err := f.WriteReviewed(ctx, doc, nil, kyc.PNG); err == nil {
			t.Fatal("wrote an empty copy")
		}
	})
	t.Run("versions, tags and deletion", func(t *testing.T) {
		key := "docs/c-2/d-2"
		v1 := f.Put(key, kyctest.Object{Content: []byte{}})
		v2 := f.Put(key, kyctest.Object{Content: kyctest.Content(kyc.PDF, 20), ContentType: kyc.PDF})
		if info, _ := f.Inspect(ctx, key, v1); !info.Exists || info.Size != 0 || info.VersionID != v1 {
			t.Fatalf("empty version %+v", info)
		}
		if info, _ := f.Inspect(ctx, key, "v-none"); info.Exists {
			t.Fatalf("a missing version exists: %+v", info)
		}
		if err := f.MarkSubmitted(ctx, key, v2); err != nil {
			t.Fatal(err)
		}
		if o, ok := f.Object(key, v2); !ok || o.Tags[kyctest.TagState] != kyctest.StateSubmitted {
			t.Fatalf("tags %v", o.Tags)
		}
		if o, _ := f.Object(key, v1); o.Tags[kyctest.TagState] != kyctest.StateUnsubmitted {
			t.Fatalf("the other version's tags %v", o.Tags)
		}
		if err := f.MarkSubmitted(ctx, "docs/none/x", ""); err == nil {
			t.Fatal("tagged a missing object")
		}
		if err := f.DeleteVersion(ctx, key, ""); err == nil {
			t.Fatal("deleted a version without naming it")
		}
		if err := f.DeleteVersion(ctx, key, v2); err != nil || !slices.Equal(f.Versions(key), []string{v1}) {
			t.Fatalf("after deleting %s: %v, %v", v2, f.Versions(key), err)
		}
		if err := f.DeleteVersion(ctx, key, v1); err != nil || len(f.Versions(key)) != 0 {
			t.Fatalf("after deleting the last version: %v, %v", f.Versions(key), err)
		}
		f.Put(key, kyctest.Object{Content: []byte("x")})
		if err := f.Delete(ctx, key); err != nil || len(f.Versions(key)) != 0 {
			t.Fatalf("after Delete: %v, %v", f.Versions(key), err)
		}
		if _, ok := f.Object(key, ""); ok {
			t.Fatal("a deleted object is there")
		}
	})
	t.Run("hooks", func(t *testing.T) {
		f.FailNext(kyctest.MethodInspect, errors.New("boom"))
		if _, err := f.Inspect(ctx, "k", ""); err == nil {
			t.Fatal("no failure")
		}
		if f.Calls(kyctest.MethodInspect) == 0 {
			t.Fatal("calls not counted")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := f.Delete(cancelled, "k"); !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled context: %v", err)
		}
	})
}

func TestSealer(t *testing.T) {
	ctx := context.Background()
	s := kyctest.NewSealer()
	sealed, err := s.Seal(ctx, "c-1", []byte("chan@example.com"))
	if err != nil || sealed.V != kyctest.SealVersion || len(sealed.Nonce) != kyctest.NonceSize || string(sealed.Data) == "chan@example.com" {
		t.Fatalf("sealed %+v, %v", sealed, err)
	}
	if plain, err := s.Open(ctx, "c-1", sealed); err != nil || string(plain) != "chan@example.com" {
		t.Fatalf("open: %q, %v", plain, err)
	}
	if _, err := s.Seal(ctx, "c-2", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, "c-2", sealed); !errors.Is(err, kyctest.ErrTampered) {
		t.Fatalf("another customer's value: %v", err)
	}
	tampered := sealed
	tampered.Data = append([]byte{sealed.Data[0] ^ 1}, sealed.Data[1:]...)
	if _, err := s.Open(ctx, "c-1", tampered); !errors.Is(err, kyctest.ErrTampered) {
		t.Fatalf("a changed value: %v", err)
	}
	for _, bad := range []kyc.Sealed{{V: 2, Nonce: sealed.Nonce, Data: sealed.Data}, {V: 1, Nonce: []byte("short"), Data: sealed.Data}} {
		if _, err := s.Open(ctx, "c-1", bad); err == nil {
			t.Fatalf("opened %+v", bad)
		}
	}
	if _, err := s.Seal(ctx, "", []byte("x")); err == nil {
		t.Fatal("sealed for no customer")
	}
	s.Shred("c-1")
	if s.HasKey("c-1") || !s.HasKey("c-2") {
		t.Fatal("Shred removed the wrong key")
	}
	if _, err := s.Open(ctx, "c-1", sealed); !errors.Is(err, kyc.ErrShredded) {
		t.Fatalf("after Shred: %v, want kyc.ErrShredded", err)
	}
	a, err := s.Fingerprint(ctx, " a123-456 7 ")
	b, _ := s.Fingerprint(ctx, "A1234567")
	c, _ := s.Fingerprint(ctx, "A1234568")
	if err != nil || len(a) != 64 || a != b || a == c {
		t.Fatalf("fingerprints %q %q %q, %v", a, b, c, err)
	}
	if _, err := s.Fingerprint(ctx, " - "); err == nil {
		t.Fatal("a fingerprint of nothing")
	}
	s.FailNext(kyctest.MethodSeal, errors.New("boom"))
	if _, err := s.Seal(ctx, "c-1", nil); err == nil || s.Calls(kyctest.MethodSeal) != 4 {
		t.Fatalf("failure %v after %d calls", err, s.Calls(kyctest.MethodSeal))
	}
}

func TestPublisher(t *testing.T) {
	ctx := context.Background()
	p := kyctest.NewPublisher()
	e1 := kyc.Event{Type: kyc.KycRequested, ID: "o-1:kyc-requested", CustomerID: "c-1"}
	e2 := kyc.Event{Type: kyc.ServiceProvisionRequested, ID: "o-1:provision", CustomerID: "c-1"}
	p.FailNext(errors.New("bus down"))
	if err := p.Publish(ctx, []kyc.Event{e1}); err == nil {
		t.Fatal("no failure")
	}
	if err := p.Publish(ctx, []kyc.Event{e1, e2}); err != nil {
		t.Fatal(err)
	}
	if got := p.Events(); len(got) != 2 || got[0].ID != e1.ID || got[1].ID != e2.ID {
		t.Fatalf("events %+v", got)
	}
	if got := p.Events(kyc.ServiceProvisionRequested); len(got) != 1 || got[0].ID != e2.ID {
		t.Fatalf("events of a type %+v", got)
	}
	if p.Calls() != 2 {
		t.Fatalf("%d calls", p.Calls())
	}
	p.Reset()
	if len(p.Events()) != 0 {
		t.Fatal("Reset kept events")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Publish(cancelled, []kyc.Event{e1}); err == nil || len(p.Events()) != 0 {
		t.Fatalf("a cancelled context: %v", err)
	}
}

func TestClockAndIDs(t *testing.T) {
	c := kyctest.NewClock(kyctest.Epoch)
	if got := c.Advance(time.Hour); !got.Equal(kyctest.Epoch.Add(time.Hour)) || !c.Now().Equal(got) {
		t.Fatalf("advanced to %s", got)
	}
	c.Set(kyctest.Epoch)
	if !c.Now().Equal(kyctest.Epoch) {
		t.Fatal("Set did not set")
	}
	ids := kyctest.NewIDs("doc")
	if next := ids.Next(); next != "doc-000001" || ids.New() != next || ids.New() != "doc-000002" {
		t.Fatal("ids are not predictable")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an id prefix that makes invalid ids was accepted")
		}
	}()
	kyctest.NewIDs("no/slash").New()
}

// TestContent: Content gives files that decode as their type at every size
// from MinContent on, cut-short ones below it; the hostile files start like
// an accepted type and are refused for what they are.
func TestContent(t *testing.T) {
	for _, ct := range kyc.ContentTypes {
		min := kyctest.MinContent(ct)
		for size := min; size < min+1200; size++ {
			b := kyctest.Content(ct, size)
			if len(b) != size {
				t.Fatalf("Content(%s, %d) is %d bytes", ct, size, len(b))
			}
			if v := filecheck.Check(ct, b); !v.Valid() || kyc.Sniff(b) != ct {
				t.Fatalf("Content(%s, %d): %s %s", ct, size, v.Reason, v.Detail)
			}
		}
		for _, size := range []int{9_999, 10_000, 64 << 10} {
			if v := filecheck.Check(ct, kyctest.Content(ct, size)); !v.Valid() {
				t.Fatalf("Content(%s, %d): %s %s", ct, size, v.Reason, v.Detail)
			}
		}
		if b := kyctest.Content(ct, 20); len(b) != 20 || kyc.Sniff(b) != ct {
			t.Errorf("Content(%s, 20) = %q", ct, b)
		}
	}
	for _, ct := range []string{kyc.JPEG, kyc.PNG} {
		if v := filecheck.Check(ct, kyctest.Content(ct, kyctest.MinContent(ct)-1)); v.Valid() {
			t.Errorf("a %s cut short decodes", ct)
		}
	}
	if kyc.Sniff(kyctest.Content("text/plain", 64)) != "" || len(kyctest.Content("text/plain", 3)) != 3 {
		t.Error("content of another type")
	}
	for _, tt := range []struct {
		name string
		ct   string
		b    []byte
		want filecheck.Reason
	}{
		{"a JPEG header with a script spliced in", kyc.JPEG, kyctest.JPEGScript(), filecheck.Undecodable},
		{"a PNG signature followed by HTML", kyc.PNG, kyctest.PNGHTML(), filecheck.Undecodable},
		{"a PDF that runs JavaScript when opened", kyc.PDF, kyctest.PDFJavaScript(), filecheck.PDFActiveContent},
		{"a decompression bomb", kyc.PNG, kyctest.PNGBomb(), filecheck.TooManyPixels},
	} {
		if kyc.Sniff(tt.b) != tt.ct {
			t.Errorf("%s does not start as %s", tt.name, tt.ct)
		}
		if v := filecheck.Check(tt.ct, tt.b); v.Reason != tt.want {
			t.Errorf("%s: %q (%s), want %s", tt.name, v.Reason, v.Detail, tt.want)
		}
	}
	if n := len(kyctest.PNGHTML()); n != 39 {
		t.Errorf("the PNG polyglot is %d bytes", n)
	}
}

// TestWorld: the world's helpers drive every use case on one set of ports.
func TestWorld(t *testing.T) {
	w := kyctest.New(t, func(c *kyc.Config) { c.Retention.Rejected = time.Hour })
	if w.Config.Retention.Rejected != time.Hour || w.Config.KMSKeyID != kyctest.KMSKeyARN {
		t.Fatalf("config %+v", w.Config)
	}
	w.PlaceOrder("c-1", "o-1")
	w.Advance(time.Hour)
	res := w.Verify("c-1")
	if res.CustomerStatus != kyc.StatusVerified || w.Hold("c-1", "o-1").State != kyc.ProvisionedExtended {
		t.Fatalf("decision %+v", res)
	}
	if got := len(w.Events(kyc.KycVerified)); got != 1 {
		t.Fatalf("%d KycVerified events", got)
	}
	trail := w.Audit("c-1")
	i := slices.IndexFunc(trail, func(e kyc.AuditEntry) bool { return e.Action == "submission.decided" })
	if i < 0 {
		t.Fatal("no decision in the audit trail")
	}
	sub := w.Submission(trail[i].SubmissionID)
	if sub.Status != kyc.SubApproved || res.SubmissionID != sub.ID {
		t.Fatalf("submission %+v", sub)
	}
	if d := w.Document("c-1", sub.IdentityDocumentID); d.Decision == nil {
		t.Fatalf("document %+v", d)
	}
	if len(w.Audit("c-1")) == 0 || w.Logs() != "" {
		t.Fatalf("audit %d entries; logs %q", len(w.Audit("c-1")), w.Logs())
	}
	if rep := w.Sweep(); rep.Changed != 0 {
		t.Fatalf("sweep %+v", rep)
	}
}
