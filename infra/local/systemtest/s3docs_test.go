package systemtest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/filecheck"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/s3docs"
)

// docsEnv is the documents bucket of the synthesized stack, deployed on the
// emulator for this test: versioned, SSE-KMS by default under the stack's
// customer-managed key, as infra/documents.go defines it.
type docsEnv struct {
	files  *s3docs.Files
	s3     *s3.Client
	bucket string
	keyARN string
	calls  *callCounter
}

// callCounter counts the S3 operations the adapter's client sends.
type callCounter struct{ n atomic.Int64 }

func (c *callCounter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.n.Add(1)
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func newDocsEnv(t *testing.T) *docsEnv {
	t.Helper()
	st, cfg := stacktest.Deploy(t)
	env := st.Functions[contract.FunctionCustomerAPI].Env
	bucket, keyARN := env[contract.EnvBucket], env[contract.EnvKeyID]
	client := awsenv.S3(cfg)

	calls := &callCounter{}
	counted := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.APIOptions = append(o.APIOptions, calls.middleware)
	})
	return &docsEnv{files: s3docs.New(counted, bucket, keyARN), s3: client, bucket: bucket, keyARN: keyARN, calls: calls}
}

// sample files: real, decodable JPEG, PNG and PDF bytes.
func sampleJPEG(tb testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(), &jpeg.Options{Quality: 80}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func samplePNG(tb testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, testImage()); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func samplePDF(tb testing.TB) []byte {
	b, err := os.ReadFile("testdata/minimal.pdf")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for y := range 12 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 20), 128, 255})
		}
	}
	return img
}

// postForm uploads body as a browser does: a multipart/form-data POST of the
// form's fields, in a fixed order with key first, and the file last.
func postForm(tb testing.TB, up kyc.Upload, contentType string, body []byte) *http.Response {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	names := make([]string, 0, len(up.Fields))
	for k := range up.Fields {
		if k != "key" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range append([]string{"key"}, names...) {
		if err := w.WriteField(k, up.Fields[k]); err != nil {
			tb.Fatal(err)
		}
	}
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="file"; filename="upload"`}
	h["Content-Type"] = []string{contentType}
	part, err := w.CreatePart(h)
	if err != nil {
		tb.Fatal(err)
	}
	part.Write(body)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, up.URL, &buf)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST upload: %v", err)
	}
	resp.Body.Close()
	return resp
}

// upload presigns a form for one document of body's size and posts body,
// and returns the new version id.
func (e *docsEnv) upload(tb testing.TB, d kyc.Document, body []byte) string {
	tb.Helper()
	d.DeclaredSize = int64(len(body))
	up, err := e.files.PresignUpload(context.Background(), d, kyc.DefaultMaxUploadBytes, 5*time.Minute)
	if err != nil {
		tb.Fatalf("PresignUpload: %v", err)
	}
	resp := postForm(tb, up, d.ContentType, body)
	if resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("POST upload: status %d, want 204", resp.StatusCode)
	}
	head, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(d.Key)})
	if err != nil {
		tb.Fatalf("head uploaded object: %v", err)
	}
	return aws.ToString(head.VersionId)
}

func (e *docsEnv) tags(tb testing.TB, key string) map[string]string {
	tb.Helper()
	return e.versionTags(tb, key, "")
}

func (e *docsEnv) versionTags(tb testing.TB, key, version string) map[string]string {
	tb.Helper()
	out, err := e.s3.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: aws.String(e.bucket), Key: aws.String(key),
		VersionId: nonEmpty(version)})
	if err != nil {
		tb.Fatalf("get tags: %v", err)
	}
	m := map[string]string{}
	for _, t := range out.TagSet {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (e *docsEnv) versions(tb testing.TB, prefix string) (versions, markers []string) {
	tb.Helper()
	out, err := e.s3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(e.bucket), Prefix: aws.String(prefix)})
	if err != nil {
		tb.Fatalf("list versions: %v", err)
	}
	for _, v := range out.Versions {
		versions = append(versions, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
	}
	for _, m := range out.DeleteMarkers {
		markers = append(markers, aws.ToString(m.Key)+"@"+aws.ToString(m.VersionId))
	}
	return versions, markers
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// get fetches a presigned link and returns its status and body.
func get(tb testing.TB, link kyc.Link) (int, []byte) {
	tb.Helper()
	resp, err := http.Get(link.URL)
	if err != nil {
		tb.Fatalf("GET link: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func doc(customer, id string, typ kyc.DocType, ct string) kyc.Document {
	return kyc.Document{ID: id, CustomerID: customer, Category: kyc.Identity, Type: typ, ContentType: ct, Key: kyc.DocumentKey(customer, id)}
}

func TestUploadInspectTagDownload(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		ct   string
		typ  kyc.DocType
		body []byte
	}{
		{"jpeg", kyc.JPEG, "passport", sampleJPEG(t)},
		{"png", kyc.PNG, "national_id", samplePNG(t)},
		{"pdf", kyc.PDF, "bank_statement", samplePDF(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := doc("cust-"+tc.name, "doc-1", tc.typ, tc.ct)
			version := e.upload(t, d, tc.body)
			d.DeclaredSize = int64(len(tc.body))

			e.calls.n.Store(0)
			info, err := e.files.Inspect(ctx, d.Key, "")
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if n := e.calls.n.Load(); n != 1 {
				t.Errorf("Inspect made %d S3 calls, want 1", n)
			}
			want := kyc.ObjectInfo{Exists: true, Size: int64(len(tc.body)), ContentType: tc.ct, SSE: "aws:kms",
				KMSKeyID: e.keyARN, Head: tc.body[:kyc.SniffLen], VersionID: version}
			if info.Exists != want.Exists || info.Size != want.Size || info.ContentType != want.ContentType ||
				info.SSE != want.SSE || info.KMSKeyID != want.KMSKeyID || !bytes.Equal(info.Head, want.Head) || info.VersionID != want.VersionID {
				t.Errorf("Inspect =\n %+v\nwant\n %+v", info, want)
			}
			if version == "" {
				t.Error("the versioned bucket returned no version id")
			}
			d.VersionID = version
			if reason, ok := d.Check(info, e.keyARN, kyc.DefaultMaxUploadBytes); !ok {
				t.Errorf("the uploaded %s fails validation: %s", tc.name, reason)
			}
			// The same version by id.
			byVersion, err := e.files.Inspect(ctx, d.Key, version)
			if err != nil || byVersion.Size != info.Size || byVersion.VersionID != version {
				t.Errorf("Inspect(version) = %+v, %v", byVersion, err)
			}

			// The emulator ignores a POST's tagging field (real S3 applies
			// it; the policy test proves the form carries it).
			before := e.tags(t, d.Key)
			if v, ok := before[contract.TagState]; ok && v != contract.StateUnsubmitted {
				t.Errorf("uploaded object tagged %s=%s", contract.TagState, v)
			}
			if err := e.files.MarkSubmitted(ctx, d.Key, version); err != nil {
				t.Fatalf("MarkSubmitted: %v", err)
			}
			if got := e.tags(t, d.Key); len(got) != 1 || got[contract.TagState] != contract.StateSubmitted {
				t.Errorf("tags after MarkSubmitted = %v, want only %s=%s", got, contract.TagState, contract.StateSubmitted)
			}

			// The validator reads the version whole.
			e.calls.n.Store(0)
			read, content, err := e.files.Read(ctx, d.Key, version, kyc.DefaultMaxUploadBytes)
			if err != nil || !bytes.Equal(content, tc.body) || read.Size != info.Size || read.VersionID != version ||
				read.SSE != "aws:kms" || read.KMSKeyID != e.keyARN || read.ContentType != tc.ct || !bytes.Equal(read.Head, info.Head) {
				t.Fatalf("Read = %+v, %d bytes, %v; want the %d uploaded bytes and what Inspect says", read, len(content), err, len(tc.body))
			}
			if n := e.calls.n.Load(); n != 1 {
				t.Errorf("Read made %d S3 calls, want 1", n)
			}
			if over, content, err := e.files.Read(ctx, d.Key, version, int64(len(tc.body)-1)); err != nil || !over.Exists ||
				over.Size != int64(len(tc.body)) || content != nil {
				t.Errorf("Read over the limit = %+v, %d bytes, %v; want the size and no content", over, len(content), err)
			}

			// What filecheck makes of it: an image's re-encoded copy is
			// written under reviewed/ and is what a view link shows; a PDF's
			// view link shows the validated original.
			verdict := filecheck.Check(tc.ct, content)
			if !verdict.Valid() {
				t.Fatalf("the sample %s does not pass filecheck: %s", tc.name, verdict.Detail)
			}
			shown := tc.body
			if verdict.Rendition != nil {
				rc, err := e.files.WriteReviewed(ctx, d, verdict.Rendition, verdict.RenditionType)
				if err != nil {
					t.Fatalf("WriteReviewed: %v", err)
				}
				if rc.Key != kyc.ReviewedKey(d.CustomerID, d.ID) || rc.VersionID == "" || rc.ContentType != tc.ct || rc.Size != int64(len(verdict.Rendition)) {
					t.Fatalf("reviewed copy %+v", rc)
				}
				stored, copied, err := e.files.Read(ctx, rc.Key, rc.VersionID, kyc.DefaultMaxUploadBytes)
				if err != nil || !bytes.Equal(copied, verdict.Rendition) || stored.SSE != "aws:kms" || stored.KMSKeyID != e.keyARN || stored.ContentType != tc.ct {
					t.Fatalf("stored copy %+v, %v", stored, err)
				}
				if got := e.versionTags(t, rc.Key, rc.VersionID); got[contract.TagState] != contract.StateUnsubmitted {
					t.Errorf("reviewed copy tags %v, want %s=%s", got, contract.TagState, contract.StateUnsubmitted)
				}
				if err := e.files.MarkSubmitted(ctx, rc.Key, rc.VersionID); err != nil {
					t.Fatal(err)
				}
				if got := e.versionTags(t, rc.Key, rc.VersionID); len(got) != 1 || got[contract.TagState] != contract.StateSubmitted {
					t.Errorf("reviewed copy tags after MarkSubmitted = %v", got)
				}
				d.Reviewed, shown = &rc, verdict.Rendition
			}

			link, err := e.files.PresignView(ctx, d, 5*time.Minute)
			if err != nil {
				t.Fatalf("PresignView: %v", err)
			}
			u, _ := url.Parse(link.URL)
			q := u.Query()
			key, _, _ := d.ViewObject()
			if u.Path != "/"+e.bucket+"/"+key && u.Path != "/"+key {
				t.Errorf("view link names %s, want %s", u.Path, key)
			}
			if !strings.HasPrefix(q.Get("response-content-disposition"), "inline;") || q.Get("response-content-type") != tc.ct {
				t.Errorf("view link's disposition %q, type %q", q.Get("response-content-disposition"), q.Get("response-content-type"))
			}
			if exp, err := strconv.Atoi(q.Get("X-Amz-Expires")); err != nil || exp > 300 || exp <= 0 {
				t.Errorf("link's X-Amz-Expires = %q, want 1..300", q.Get("X-Amz-Expires"))
			}
			if status, got := get(t, link); status != http.StatusOK || !bytes.Equal(got, shown) {
				t.Fatalf("GET view link: status %d, %d bytes; want 200 and the %d bytes of the reviewed copy", status, len(got), len(shown))
			}
			export, err := e.files.PresignExport(ctx, d, time.Hour)
			if err != nil {
				t.Fatalf("PresignExport: %v", err)
			}
			if status, got := get(t, export); status != http.StatusOK || !bytes.Equal(got, tc.body) {
				t.Fatalf("GET export link: status %d, %d bytes; want 200 and the %d uploaded bytes", status, len(got), len(tc.body))
			}
			if cd := u.Query().Get("response-content-disposition"); cd == s3docs.ContentDisposition(d) {
				t.Errorf("the view link is an attachment: %s", cd)
			}
		})
	}
}

// TestReviewedCopyAgreesWithTheFake: the in-memory Files of kyctest and the
// S3 adapter on the emulator do the same with an upload and its reviewed
// copy: read it whole, write the copy at the same key with the same
// encryption and tag, link to it, and delete it.
func TestReviewedCopyAgreesWithTheFake(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	ctx := context.Background()
	fake := kyctest.NewFiles(e.keyARN, nil)
	body := kyctest.Content(kyc.PNG, 3000)
	type seen struct {
		Exists             bool
		Size               int64
		SSE, KMS, Type     string
		Content            string
		CopyKey, CopyType  string
		CopySize           int64
		CopyTag, ViewPath  string
		GoneAfterDelete    bool
		ReadOverLimitEmpty bool
	}
	observe := func(files kyc.Files, put func(kyc.Document) string, tag func(key, version string) string, pathOf func(string) string) seen {
		d := doc("cust-agree", "doc-1", kyc.NationalID, kyc.PNG)
		d.VersionID = put(d)
		info, content, err := files.Read(ctx, d.Key, d.VersionID, kyc.DefaultMaxUploadBytes)
		if err != nil {
			t.Fatal(err)
		}
		_, over, _ := files.Read(ctx, d.Key, d.VersionID, 10)
		rc, err := files.WriteReviewed(ctx, d, []byte("re-encoded picture"), kyc.PNG)
		if err != nil {
			t.Fatal(err)
		}
		d.Reviewed = &rc
		link, err := files.PresignView(ctx, d, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(link.URL)
		s := seen{Exists: info.Exists, Size: info.Size, SSE: info.SSE, KMS: info.KMSKeyID, Type: info.ContentType, Content: string(content),
			CopyKey: rc.Key, CopyType: rc.ContentType, CopySize: rc.Size, CopyTag: tag(rc.Key, rc.VersionID), ViewPath: pathOf(u.Path),
			ReadOverLimitEmpty: over == nil}
		if err := files.Delete(ctx, rc.Key); err != nil {
			t.Fatal(err)
		}
		after, _, err := files.Read(ctx, rc.Key, "", kyc.DefaultMaxUploadBytes)
		s.GoneAfterDelete = err == nil && !after.Exists
		return s
	}
	onS3 := observe(e.files, func(d kyc.Document) string { return e.upload(t, d, body) },
		func(key, version string) string { return e.versionTags(t, key, version)[contract.TagState] },
		func(p string) string { return strings.TrimPrefix(p, "/"+e.bucket) })
	inMemory := observe(fake, func(d kyc.Document) string {
		return fake.Put(d.Key, kyctest.Object{Content: body, ContentType: kyc.PNG, SSE: kyctest.SSEKMS, KMSKeyID: e.keyARN})
	}, func(key, version string) string {
		o, _ := fake.Object(key, version)
		return o.Tags[kyctest.TagState]
	}, func(p string) string { return p })
	if onS3 != inMemory {
		t.Fatalf("S3 and the fake differ:\n S3:   %+v\n fake: %+v", onS3, inMemory)
	}
	if onS3.CopyTag != contract.StateUnsubmitted || onS3.ViewPath != "/"+kyc.ReviewedKey("cust-agree", "doc-1") || !onS3.GoneAfterDelete {
		t.Fatalf("both agree, on the wrong thing: %+v", onS3)
	}
}

func TestInspectVersions(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	ctx := context.Background()
	d := doc("cust-v", "doc-1", "passport", kyc.PDF)
	first := e.upload(t, d, samplePDF(t))
	second := e.upload(t, d, samplePNG(t)) // a second upload to the same key
	if first == second {
		t.Fatalf("two uploads, one version id %q", first)
	}
	for _, tc := range []struct {
		version string
		size    int
		head    []byte
	}{
		{first, len(samplePDF(t)), samplePDF(t)[:kyc.SniffLen]},
		{second, len(samplePNG(t)), samplePNG(t)[:kyc.SniffLen]},
		{"", len(samplePNG(t)), samplePNG(t)[:kyc.SniffLen]},
	} {
		info, err := e.files.Inspect(ctx, d.Key, tc.version)
		if err != nil {
			t.Fatalf("Inspect(%q): %v", tc.version, err)
		}
		if !info.Exists || info.Size != int64(tc.size) || !bytes.Equal(info.Head, tc.head) {
			t.Errorf("Inspect(%q) = size %d head %x, want %d %x", tc.version, info.Size, info.Head, tc.size, tc.head)
		}
	}
}

func TestInspectMissing(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	ctx := context.Background()

	info, err := e.files.Inspect(ctx, "docs/nobody/nothing", "")
	if err != nil || info.Exists {
		t.Errorf("Inspect(missing key) = %+v, %v; want Exists=false, no error", info, err)
	}

	d := doc("cust-m", "doc-1", "passport", kyc.PDF)
	version := e.upload(t, d, samplePDF(t))
	if err := e.files.DeleteVersion(ctx, d.Key, version); err != nil {
		t.Fatalf("DeleteVersion: %v", err)
	}
	info, err = e.files.Inspect(ctx, d.Key, version)
	if err != nil || info.Exists {
		t.Errorf("Inspect(deleted version) = %+v, %v; want Exists=false, no error", info, err)
	}

	// A missing bucket is a configuration error, not a missing object.
	other := s3docs.New(e.s3, emulator.UniqueName(t, "no-such-bucket"), e.keyARN)
	if info, err := other.Inspect(ctx, d.Key, ""); err == nil {
		t.Errorf("Inspect in a missing bucket = %+v, want an error", info)
	}
}

func TestInspectEmptyObject(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	key := kyc.DocumentKey("cust-e", "doc-1")
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatal(err)
	}
	info, err := e.files.Inspect(context.Background(), key, "")
	if err != nil {
		t.Fatalf("Inspect(empty object): %v", err)
	}
	if !info.Exists || info.Size != 0 {
		t.Errorf("Inspect(empty object) = %+v, want Exists, size 0", info)
	}
	if read, content, err := e.files.Read(context.Background(), key, "", 100); err != nil || !read.Exists || read.Size != 0 || len(content) != 0 {
		t.Errorf("Read(empty object) = %+v, %d bytes, %v", read, len(content), err)
	}
	if reason, ok := (kyc.Document{ContentType: kyc.PDF}).Check(info, e.keyARN, 100); ok || reason != kyc.InvalidEmpty {
		t.Errorf("Check(empty) = %s, %v; want %s", reason, ok, kyc.InvalidEmpty)
	}
}

func TestDelete(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	ctx := context.Background()
	d := doc("cust-d", "doc-1", "passport", kyc.PDF)
	sibling := doc("cust-d", "doc-10", "passport", kyc.PDF) // its key starts with d's key
	e.upload(t, d, samplePDF(t))
	e.upload(t, d, samplePDF(t))
	siblingVersion := e.upload(t, sibling, samplePDF(t))
	// and a delete marker on top
	if _, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(d.Key)}); err != nil {
		t.Fatal(err)
	}
	e.upload(t, d, samplePNG(t))
	if v, m := e.versions(t, d.Key); len(v) != 4 || len(m) != 1 {
		t.Fatalf("before Delete: %d versions, %d markers; want 4 (3 of the key, 1 sibling) and 1", len(v), len(m))
	}

	e.calls.n.Store(0)
	if err := e.files.Delete(ctx, d.Key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := e.calls.n.Load(); n != 2 {
		t.Errorf("Delete made %d S3 calls, want 2 (list, delete)", n)
	}
	v, m := e.versions(t, d.Key)
	if want := []string{sibling.Key + "@" + siblingVersion}; !slices.Equal(v, want) || len(m) != 0 {
		t.Errorf("after Delete: versions %v, markers %v; want only the sibling %v", v, m, want)
	}
	if info, err := e.files.Inspect(ctx, d.Key, ""); err != nil || info.Exists {
		t.Errorf("Inspect after Delete = %+v, %v", info, err)
	}

	// Again: nothing left is fine, and costs one call.
	e.calls.n.Store(0)
	if err := e.files.Delete(ctx, d.Key); err != nil {
		t.Errorf("Delete(missing): %v", err)
	}
	if n := e.calls.n.Load(); n != 1 {
		t.Errorf("Delete(missing) made %d S3 calls, want 1", n)
	}
}

func TestDeleteManyVersions(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	ctx := context.Background()
	key := kyc.DocumentKey("cust-many", "doc-1")
	const versions = 1005 // over one DeleteObjects batch and one listing page
	for i := range versions {
		if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader([]byte{byte(i)})}); err != nil {
			t.Fatal(err)
		}
	}
	e.calls.n.Store(0)
	if err := e.files.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := e.calls.n.Load(); n != 4 {
		t.Errorf("Delete of %d versions made %d S3 calls, want 4 (2 listing pages, 2 DeleteObjects batches)", versions, n)
	}
	if v, m := e.versions(t, key); len(v)+len(m) != 0 {
		t.Errorf("after Delete of %d versions: %d versions, %d markers left", versions, len(v), len(m))
	}
}

func TestDeleteVersion(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	ctx := context.Background()
	d := doc("cust-dv", "doc-1", "passport", kyc.JPEG)
	first := e.upload(t, d, sampleJPEG(t))
	second := e.upload(t, d, sampleJPEG(t))
	if err := e.files.DeleteVersion(ctx, d.Key, first); err != nil {
		t.Fatalf("DeleteVersion: %v", err)
	}
	v, m := e.versions(t, d.Key)
	if want := []string{d.Key + "@" + second}; !slices.Equal(v, want) || len(m) != 0 {
		t.Errorf("after DeleteVersion(first): versions %v markers %v; want %v", v, m, want)
	}
	if err := e.files.DeleteVersion(ctx, d.Key, ""); err == nil {
		t.Error("DeleteVersion without a version id succeeded (it would only add a delete marker)")
	}
	if _, m := e.versions(t, d.Key); len(m) != 0 {
		t.Errorf("DeleteVersion(\"\") left delete markers %v", m)
	}
}

// Errors never carry the object key (it names the customer) or its content.
func TestErrorsNameNoKey(t *testing.T) {
	emulator.Integration(t)
	e := newDocsEnv(t)
	missing := s3docs.New(e.s3, emulator.UniqueName(t, "missing"), e.keyARN)
	key := kyc.DocumentKey("secret-customer-7", "doc-1")
	_, _, readErr := missing.Read(context.Background(), key, "", 100)
	for name, err := range map[string]error{
		"Inspect":       second(missing.Inspect(context.Background(), key, "")),
		"Read":          readErr,
		"WriteReviewed": second(missing.WriteReviewed(context.Background(), kyc.Document{CustomerID: "secret-customer-7", ID: "doc-1"}, []byte("x"), kyc.PNG)),
		"Delete":        missing.Delete(context.Background(), key),
		"MarkSubmitted": missing.MarkSubmitted(context.Background(), key, ""),
	} {
		if err == nil {
			t.Errorf("%s in a missing bucket succeeded", name)
			continue
		}
		if bytes.Contains([]byte(err.Error()), []byte("secret-customer-7")) {
			t.Errorf("%s error names the customer's key: %v", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
