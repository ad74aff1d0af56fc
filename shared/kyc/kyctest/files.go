package kyctest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Files is an in-memory kyc.Files: a versioned bucket. Every upload (Put, or
// Post through a presigned form) adds a new version with an id of its own;
// the current version is the newest. Presigned forms and links are not
// signed: a form's fields spell out, readably, what its policy pins (see
// Policy), and a link names the object version, the response headers and the
// expiry. Limits are those of the S3 adapter (shared/s3docs). Times come from
// the clock given to NewFiles. Files is safe for concurrent use.
type Files struct {
	mu       sync.Mutex
	kmsKeyID string
	clock    func() time.Time
	objects  map[string][]*version // key → versions, oldest first
	seq      int
	hooks    hooks
}

var _ kyc.Files = (*Files)(nil)

// Object is an uploaded object as S3 records it.
type Object struct {
	Content     []byte
	ContentType string
	SSE         string // server-side encryption: "aws:kms" for SSE-KMS
	KMSKeyID    string // the key SSE-KMS used (id or ARN)
	// Tags are the object version's tags (Put and Post tag an upload
	// unsubmitted, as the form's tagging field does).
	Tags map[string]string
}

type version struct {
	id string
	Object
}

// Tags of the documents bucket (shared/contract's values).
const (
	TagState         = "kyc-state"
	StateUnsubmitted = "unsubmitted"
	StateSubmitted   = "submitted"
)

// SSEKMS is the server-side encryption every document must be stored with.
const SSEKMS = "aws:kms"

// Limits of the presigned requests (shared/s3docs's).
const (
	MaxUploadTTL   = 15 * time.Minute
	MaxDownloadTTL = 5 * time.Minute
	MaxExportTTL   = time.Hour
)

// The URLs of the presigned requests.
const (
	UploadURL   = "https://documents.kyctest.invalid/"
	DownloadURL = "https://documents.kyctest.invalid/"
)

// NewFiles returns an empty bucket whose upload forms pin SSE-KMS under
// kmsKeyID. clock gives the time forms and links expire from (time.Now if
// nil).
func NewFiles(kmsKeyID string, clock func() time.Time) *Files {
	if clock == nil {
		clock = time.Now
	}
	return &Files{kmsKeyID: kmsKeyID, clock: clock, objects: map[string][]*version{}}
}

// Put stores a new version of key as a browser upload would (tagged
// unsubmitted unless o.Tags says otherwise) and returns its version id. It
// checks nothing: use it to put objects no form would allow.
func (f *Files) Put(key string, o Object) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	v := &version{id: fmt.Sprintf("v%04d", f.seq), Object: o}
	v.Content = append([]byte(nil), o.Content...)
	v.Tags = maps.Clone(o.Tags)
	if v.Tags == nil {
		v.Tags = map[string]string{TagState: StateUnsubmitted}
	}
	f.objects[key] = append(f.objects[key], v)
	return v.id
}

// Object returns a version of an object ("" for the current one).
func (f *Files) Object(key, versionID string) (Object, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.find(key, versionID)
	if v == nil {
		return Object{}, false
	}
	o := v.Object
	o.Content, o.Tags = append([]byte(nil), v.Content...), maps.Clone(v.Tags)
	return o, true
}

// Versions returns the version ids of an object, oldest first.
func (f *Files) Versions(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, v := range f.objects[key] {
		out = append(out, v.id)
	}
	return out
}

// find returns a version ("" for the current one); the caller holds f.mu.
func (f *Files) find(key, versionID string) *version {
	vs := f.objects[key]
	if len(vs) == 0 {
		return nil
	}
	if versionID == "" {
		return vs[len(vs)-1]
	}
	for _, v := range vs {
		if v.id == versionID {
			return v
		}
	}
	return nil
}

// UploadPolicy is what a presigned upload form pins.
type UploadPolicy struct {
	Expiration  time.Time `json:"expiration"`
	Key         string    `json:"key"`
	ContentType string    `json:"contentType"`
	MinSize     int64     `json:"minSize"`
	MaxSize     int64     `json:"maxSize"`
	SSE         string    `json:"sse"`
	KMSKeyID    string    `json:"kmsKeyId"`
	Tagging     string    `json:"tagging"`
}

// UnsubmittedTagging is the tag set every upload form pins (the form of
// shared/s3docs).
const UnsubmittedTagging = "<Tagging><TagSet><Tag><Key>" + TagState + "</Key><Value>" +
	StateUnsubmitted + "</Value></Tag></TagSet></Tagging>"

// Policy decodes what a form from PresignUpload pins.
func Policy(up kyc.Upload) (UploadPolicy, error) {
	var p UploadPolicy
	b, err := base64.StdEncoding.DecodeString(up.Fields["policy"])
	if err != nil {
		return p, fmt.Errorf("upload policy: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("upload policy: %w", err)
	}
	return p, nil
}

// PresignUpload returns a form for exactly d's object: its key, its content
// type, a size of exactly d.DeclaredSize bytes (1..maxSize), SSE-KMS under
// the bucket's key and the unsubmitted tag, expiring after ttl (at most
// MaxUploadTTL). Fields holds the form fields, "policy" the pinned values
// (see Policy).
func (f *Files) PresignUpload(ctx context.Context, d kyc.Document, maxSize int64, ttl time.Duration) (kyc.Upload, error) {
	if err := f.enter(ctx, MethodPresignUpload); err != nil {
		return kyc.Upload{}, err
	}
	switch {
	case ttl <= 0 || ttl > MaxUploadTTL:
		return kyc.Upload{}, fmt.Errorf("presign upload: ttl %s is outside (0, %s]", ttl, MaxUploadTTL)
	case d.DeclaredSize < 1 || d.DeclaredSize > maxSize:
		return kyc.Upload{}, fmt.Errorf("presign upload: declared size %d is outside 1..%d", d.DeclaredSize, maxSize)
	case d.Key == "" || d.ContentType == "":
		return kyc.Upload{}, errors.New("presign upload: the document has no key or content type")
	case f.kmsKeyID == "":
		return kyc.Upload{}, errors.New("presign upload: no KMS key configured")
	}
	p := UploadPolicy{Expiration: f.clock().UTC().Add(ttl).Truncate(time.Second), Key: d.Key, ContentType: d.ContentType,
		MinSize: d.DeclaredSize, MaxSize: d.DeclaredSize, SSE: SSEKMS, KMSKeyID: f.kmsKeyID, Tagging: UnsubmittedTagging}
	b, err := json.Marshal(p)
	if err != nil {
		return kyc.Upload{}, fmt.Errorf("presign upload: %w", err)
	}
	return kyc.Upload{URL: UploadURL, ExpiresAt: p.Expiration, Fields: map[string]string{
		"key":                          d.Key,
		"Content-Type":                 d.ContentType,
		"x-amz-server-side-encryption": SSEKMS,
		"x-amz-server-side-encryption-aws-kms-key-id": f.kmsKeyID,
		"tagging": UnsubmittedTagging,
		"policy":  base64.StdEncoding.EncodeToString(b),
	}}, nil
}

// Post uploads content through a form from PresignUpload, as a browser does
// and as S3 checks it: refused once the form has expired or when the size is
// outside its range; stored under the form's key with its content type,
// encryption and tag. It returns the new version id.
func (f *Files) Post(up kyc.Upload, content []byte) (string, error) {
	p, err := Policy(up)
	if err != nil {
		return "", err
	}
	switch size := int64(len(content)); {
	case !f.clock().Before(p.Expiration):
		return "", errors.New("post object: the form has expired")
	case size < p.MinSize || size > p.MaxSize:
		return "", fmt.Errorf("post object: %d bytes is outside the form's range %d..%d", size, p.MinSize, p.MaxSize)
	}
	return f.Put(p.Key, Object{Content: content, ContentType: p.ContentType, SSE: p.SSE, KMSKeyID: p.KMSKeyID,
		Tags: map[string]string{TagState: StateUnsubmitted}}), nil
}

// Inspect returns what storage knows about an object version ("" for the
// current one): a missing object or version is Exists=false, not an error.
// As with the S3 adapter, an empty object reports the version asked for
// (S3 answers any range of it with 416, which names no version).
func (f *Files) Inspect(ctx context.Context, key, versionID string) (kyc.ObjectInfo, error) {
	if err := f.enter(ctx, MethodInspect); err != nil {
		return kyc.ObjectInfo{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.find(key, versionID)
	switch {
	case v == nil:
		return kyc.ObjectInfo{Exists: false}, nil
	case len(v.Content) == 0:
		return kyc.ObjectInfo{Exists: true, Size: 0, VersionID: versionID}, nil
	}
	return kyc.ObjectInfo{
		Exists: true, Size: int64(len(v.Content)), ContentType: v.ContentType, SSE: v.SSE, KMSKeyID: v.KMSKeyID,
		Head: append([]byte(nil), v.Content[:min(len(v.Content), kyc.SniffLen)]...), VersionID: v.id,
	}, nil
}

// Read returns what storage knows about an object version ("" for the
// current one) and, when it exists and is at most maxSize bytes, its content.
func (f *Files) Read(ctx context.Context, key, versionID string, maxSize int64) (kyc.ObjectInfo, []byte, error) {
	if err := f.enter(ctx, MethodRead); err != nil {
		return kyc.ObjectInfo{}, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.find(key, versionID)
	if v == nil {
		return kyc.ObjectInfo{Exists: false}, nil, nil
	}
	info := kyc.ObjectInfo{
		Exists: true, Size: int64(len(v.Content)), ContentType: v.ContentType, SSE: v.SSE, KMSKeyID: v.KMSKeyID,
		Head: append([]byte(nil), v.Content[:min(len(v.Content), kyc.SniffLen)]...), VersionID: v.id,
	}
	if info.Size > maxSize {
		return info, nil, nil
	}
	return info, append([]byte{}, v.Content...), nil
}

// WriteReviewed stores content as d's reviewed copy (kyc.ReviewedKey), with
// SSE-KMS under the bucket's key and the unsubmitted tag, as a new version.
func (f *Files) WriteReviewed(ctx context.Context, d kyc.Document, content []byte, contentType string) (kyc.ReviewCopy, error) {
	if err := f.enter(ctx, MethodWriteReviewed); err != nil {
		return kyc.ReviewCopy{}, err
	}
	switch {
	case !kyc.ValidID(d.CustomerID) || !kyc.ValidID(d.ID):
		return kyc.ReviewCopy{}, errors.New("write reviewed copy: the document has no customer or id")
	case len(content) == 0 || contentType == "":
		return kyc.ReviewCopy{}, errors.New("write reviewed copy: no content or content type")
	case f.kmsKeyID == "":
		return kyc.ReviewCopy{}, errors.New("write reviewed copy: no KMS key configured")
	}
	key := kyc.ReviewedKey(d.CustomerID, d.ID)
	v := f.Put(key, Object{Content: content, ContentType: contentType, SSE: SSEKMS, KMSKeyID: f.kmsKeyID})
	return kyc.ReviewCopy{Key: key, VersionID: v, ContentType: contentType, Size: int64(len(content))}, nil
}

// Delete removes every version of an object; a missing object is fine.
func (f *Files) Delete(ctx context.Context, key string) error {
	if err := f.enter(ctx, MethodDelete); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects, key)
	return nil
}

// DeleteVersion removes one version of an object (a missing one is fine);
// versionID must be set.
func (f *Files) DeleteVersion(ctx context.Context, key, versionID string) error {
	if err := f.enter(ctx, MethodDeleteVersion); err != nil {
		return err
	}
	if versionID == "" {
		return errors.New("delete object version: no version id")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.objects[key]
	for i, v := range vs {
		if v.id == versionID {
			vs = append(vs[:i:i], vs[i+1:]...)
			break
		}
	}
	if len(vs) == 0 {
		delete(f.objects, key)
	} else {
		f.objects[key] = vs
	}
	return nil
}

// MarkSubmitted replaces an object version's tags ("" for the current one)
// with kyc-state=submitted; a missing object is an error, as in S3.
func (f *Files) MarkSubmitted(ctx context.Context, key, versionID string) error {
	if err := f.enter(ctx, MethodMarkSubmitted); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.find(key, versionID)
	if v == nil {
		return errors.New("tag object submitted: no such object version")
	}
	v.Tags = map[string]string{TagState: StateSubmitted}
	return nil
}

// PresignView returns a link to d's view object (kyc.Document.ViewObject:
// the reviewed copy of an image, the validated version of a PDF), valid for
// ttl (at most MaxDownloadTTL), that shows it inline as its content type.
func (f *Files) PresignView(ctx context.Context, d kyc.Document, ttl time.Duration) (kyc.Link, error) {
	if err := f.enter(ctx, MethodPresignView); err != nil {
		return kyc.Link{}, err
	}
	key, version, ct := d.ViewObject()
	return f.link(key, version, ct, "inline", d.Type, ttl, MaxDownloadTTL)
}

// PresignExport returns a link to d's validated original, valid for ttl (at
// most MaxExportTTL), that downloads it as an attachment of its content type.
func (f *Files) PresignExport(ctx context.Context, d kyc.Document, ttl time.Duration) (kyc.Link, error) {
	if err := f.enter(ctx, MethodPresignExport); err != nil {
		return kyc.Link{}, err
	}
	return f.link(d.Key, d.VersionID, d.ContentType, "attachment", d.Type, ttl, MaxExportTTL)
}

func (f *Files) link(key, version, ct, disposition string, typ kyc.DocType, ttl, max time.Duration) (kyc.Link, error) {
	if ttl <= 0 || ttl > max {
		return kyc.Link{}, fmt.Errorf("presign download: ttl %s is outside (0, %s]", ttl, max)
	}
	if key == "" || ct == "" || version == "" {
		return kyc.Link{}, errors.New("presign download: the document has no validated object")
	}
	expires := f.clock().UTC().Add(ttl)
	q := url.Values{
		"response-content-disposition": {disposition + `; filename="` + string(typ) + "." + kyc.FileExtension(ct) + `"`},
		"response-content-type":        {ct},
		"expires":                      {expires.Format(time.RFC3339Nano)},
		"ttl":                          {strconv.FormatInt(int64(ttl/time.Second), 10)},
		"versionId":                    {version},
	}
	return kyc.Link{URL: DownloadURL + key + "?" + q.Encode(), ExpiresAt: expires}, nil
}

func (f *Files) enter(ctx context.Context, m Method) error {
	if err := f.hooks.enter(m); err != nil {
		return err
	}
	return ctx.Err()
}

// Calls returns how many times the method m of Files has been called.
func (f *Files) Calls(m Method) int { return f.hooks.Calls(m) }

// FailNext makes the next call of the method m of Files return err and do
// nothing. Called n times, it fails the next n calls.
func (f *Files) FailNext(m Method, err error) { f.hooks.FailNext(m, err) }
