// Package s3docs stores uploaded documents in S3: the kyc.Files port.
//
// Uploads are browser form POSTs presigned with a policy that pins the object
// key, the content type, the declared size, SSE-KMS under the stack's key and
// the unsubmitted tag. The validator reads an upload whole and writes the
// copy reviewers see (an image re-encoded) under reviewed/, with the same
// encryption. Reviewers get short presigned GETs that show that copy inline
// as its validated type; disclosures get presigned GETs that download the
// validated original as an attachment. Errors name the operation, never an
// object's key or anything a customer typed.
package s3docs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Limits of the presigned requests.
const (
	MaxUploadTTL = 15 * time.Minute // a presigned upload form lives at most this long
	MaxViewTTL   = 5 * time.Minute  // a reviewer's link lives at most this long
	MaxExportTTL = time.Hour        // a disclosure's export link lives at most this long
)

// SSEKMS is the server-side encryption every document is stored with.
const SSEKMS = "aws:kms"

// deleteBatch is the most keys one DeleteObjects call takes.
const deleteBatch = 1000

// Files is the kyc.Files port on an S3 bucket.
type Files struct {
	client   *s3.Client
	presign  *s3.PresignClient
	bucket   string
	kmsKeyID string
}

var _ kyc.Files = (*Files)(nil)

// New returns the documents store on bucket. kmsKeyID is the ARN of the
// customer-managed key that uploads must be encrypted under (the bucket
// policy compares it literally, so it must be the ARN, not a key id).
func New(client *s3.Client, bucket, kmsKeyID string) *Files {
	return &Files{
		client:   client,
		presign:  s3.NewPresignClient(client),
		bucket:   bucket,
		kmsKeyID: kmsKeyID,
	}
}

// UnsubmittedTagging is the tag set, in the XML form a POST's tagging field
// takes, that every upload carries until it is submitted.
const UnsubmittedTagging = "<Tagging><TagSet><Tag><Key>" + contract.TagState + "</Key><Value>" +
	contract.StateUnsubmitted + "</Value></Tag></TagSet></Tagging>"

// PresignUpload returns a browser form for exactly d's object. Its policy
// pins the key, the content type, a size of exactly d.DeclaredSize bytes
// (which must be 1..maxSize), SSE-KMS under the stack's key and the
// unsubmitted tag, and expires after ttl (at most MaxUploadTTL). Fields
// holds every form field the browser must send before the file (which goes
// last, as the "file" field).
func (f *Files) PresignUpload(ctx context.Context, d kyc.Document, maxSize int64, ttl time.Duration) (kyc.Upload, error) {
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
	// Every field the form sends must be matched by a condition, and every
	// condition here is an exact match: nothing the browser sends can widen it.
	fields := map[string]string{
		"Content-Type":                                d.ContentType,
		"x-amz-server-side-encryption":                SSEKMS,
		"x-amz-server-side-encryption-aws-kms-key-id": f.kmsKeyID,
		"tagging": UnsubmittedTagging,
	}
	// The browser sends the file it declared: S3 refuses any other size.
	conditions := []any{
		map[string]string{"key": d.Key},
		[]any{"content-length-range", d.DeclaredSize, d.DeclaredSize},
	}
	for _, name := range []string{"Content-Type", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id", "tagging"} {
		conditions = append(conditions, map[string]string{name: fields[name]})
	}
	// The policy expires at signing time + ttl, rounded down to the second;
	// the signing time is after this instant, so ExpiresAt is never later
	// than the real expiry.
	expiresAt := time.Now().Add(ttl).Truncate(time.Second)
	req, err := f.presign.PresignPostObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(f.bucket),
		Key:    aws.String(d.Key),
	}, func(o *s3.PresignPostOptions) {
		o.Expires = ttl
		o.Conditions = conditions
	})
	if err != nil {
		return kyc.Upload{}, fmt.Errorf("presign upload: %w", err)
	}
	for k, v := range req.Values { // key, policy, X-Amz-* (algorithm, credential, date, signature, token)
		fields[k] = v
	}
	return kyc.Upload{URL: req.URL, Fields: fields, ExpiresAt: expiresAt}, nil
}

// Inspect reads what the validator needs about an object version (the
// current one for ""), in one ranged GetObject: its size, content type,
// encryption and first kyc.SniffLen bytes. A missing object or version is
// Exists=false, not an error.
func (f *Files) Inspect(ctx context.Context, key, versionID string) (kyc.ObjectInfo, error) {
	in := &s3.GetObjectInput{
		Bucket: aws.String(f.bucket),
		Key:    aws.String(key),
		Range:  aws.String("bytes=0-" + strconv.Itoa(kyc.SniffLen-1)),
	}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := f.client.GetObject(ctx, in, func(o *s3.Options) {
		// A range has no checksum to validate; do not log that on every call.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	switch {
	case notFound(err):
		return kyc.ObjectInfo{Exists: false}, nil
	case errorCode(err) == "InvalidRange":
		// S3 answers 416 to any range of an empty object: it exists, 0 bytes.
		return kyc.ObjectInfo{Exists: true, Size: 0, VersionID: versionID}, nil
	case err != nil:
		return kyc.ObjectInfo{}, fmt.Errorf("inspect object: %w", err)
	}
	defer out.Body.Close()
	head, err := io.ReadAll(io.LimitReader(out.Body, kyc.SniffLen))
	if err != nil {
		return kyc.ObjectInfo{}, fmt.Errorf("inspect object: read head: %w", err)
	}
	size, ok := totalSize(aws.ToString(out.ContentRange))
	if !ok {
		size = aws.ToInt64(out.ContentLength)
	}
	return kyc.ObjectInfo{
		Exists:      true,
		Size:        size,
		ContentType: aws.ToString(out.ContentType),
		SSE:         string(out.ServerSideEncryption),
		KMSKeyID:    aws.ToString(out.SSEKMSKeyId),
		Head:        head,
		VersionID:   aws.ToString(out.VersionId),
	}, nil
}

// Read reads an object version (the current one for "") whole, in one
// GetObject: what Inspect tells and, when the object is at most maxSize
// bytes, its content. A larger object's body is not read (its size is
// reported, the content is nil); a missing object or version is
// Exists=false, not an error.
func (f *Files) Read(ctx context.Context, key, versionID string, maxSize int64) (kyc.ObjectInfo, []byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), VersionId: nonEmpty(versionID)}
	out, err := f.client.GetObject(ctx, in)
	switch {
	case notFound(err):
		return kyc.ObjectInfo{Exists: false}, nil, nil
	case err != nil:
		return kyc.ObjectInfo{}, nil, fmt.Errorf("read object: %w", err)
	}
	defer out.Body.Close()
	info := kyc.ObjectInfo{
		Exists:      true,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		SSE:         string(out.ServerSideEncryption),
		KMSKeyID:    aws.ToString(out.SSEKMSKeyId),
		VersionID:   aws.ToString(out.VersionId),
	}
	if info.Size > maxSize {
		return info, nil, nil
	}
	content, err := io.ReadAll(io.LimitReader(out.Body, maxSize+1))
	if err != nil {
		return kyc.ObjectInfo{}, nil, fmt.Errorf("read object: %w", err)
	}
	if int64(len(content)) != info.Size {
		return kyc.ObjectInfo{}, nil, fmt.Errorf("read object: %d bytes read, %d announced", len(content), info.Size)
	}
	info.Head = content[:min(len(content), kyc.SniffLen)]
	return info, content, nil
}

// WriteReviewed stores content as d's reviewed copy at kyc.ReviewedKey, with
// its content type, SSE-KMS under the stack's key (the bucket policy refuses
// anything else) and the unsubmitted tag (submission re-tags it, as it does
// the original), and returns where it is.
func (f *Files) WriteReviewed(ctx context.Context, d kyc.Document, content []byte, contentType string) (kyc.ReviewCopy, error) {
	switch {
	case !kyc.ValidID(d.CustomerID) || !kyc.ValidID(d.ID):
		return kyc.ReviewCopy{}, errors.New("write reviewed copy: the document has no customer or id")
	case len(content) == 0 || contentType == "":
		return kyc.ReviewCopy{}, errors.New("write reviewed copy: no content or content type")
	case f.kmsKeyID == "":
		return kyc.ReviewCopy{}, errors.New("write reviewed copy: no KMS key configured")
	}
	key := kyc.ReviewedKey(d.CustomerID, d.ID)
	out, err := f.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:               aws.String(f.bucket),
		Key:                  aws.String(key),
		Body:                 bytes.NewReader(content),
		ContentLength:        aws.Int64(int64(len(content))),
		ContentType:          aws.String(contentType),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms,
		SSEKMSKeyId:          aws.String(f.kmsKeyID),
		Tagging:              aws.String(contract.TagState + "=" + contract.StateUnsubmitted),
	})
	if err != nil {
		return kyc.ReviewCopy{}, fmt.Errorf("write reviewed copy: %w", err)
	}
	return kyc.ReviewCopy{Key: key, VersionID: aws.ToString(out.VersionId), ContentType: contentType, Size: int64(len(content))}, nil
}

// totalSize returns the complete length of a "bytes 0-7/1234" Content-Range.
func totalSize(contentRange string) (int64, bool) {
	_, total, found := strings.Cut(contentRange, "/")
	if !found || total == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// notFound reports an error that means the object or the version is not there
// (a missing bucket is a configuration error, not a missing object).
func notFound(err error) bool {
	if err == nil {
		return false
	}
	switch errorCode(err) {
	case "NoSuchKey", "NoSuchVersion", "NotFound":
		return true
	case "NoSuchBucket":
		return false
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Delete removes every version and delete marker of exactly key (not of keys
// it is a prefix of). A missing object is fine.
func (f *Files) Delete(ctx context.Context, key string) error {
	var ids []types.ObjectIdentifier
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(f.bucket), Prefix: aws.String(key)}
	for {
		out, err := f.client.ListObjectVersions(ctx, in)
		if err != nil {
			return fmt.Errorf("delete object: list versions: %w", err)
		}
		for _, v := range out.Versions {
			if aws.ToString(v.Key) == key {
				ids = append(ids, types.ObjectIdentifier{Key: aws.String(key), VersionId: v.VersionId})
			}
		}
		for _, m := range out.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				ids = append(ids, types.ObjectIdentifier{Key: aws.String(key), VersionId: m.VersionId})
			}
		}
		// Versions are listed in key order: once the listing has moved past
		// key, the rest belongs to longer keys.
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextKeyMarker) != key {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	for start := 0; start < len(ids); start += deleteBatch {
		batch := ids[start:min(start+deleteBatch, len(ids))]
		out, err := f.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(f.bucket),
			Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("delete object: %w", err)
		}
		if len(out.Errors) > 0 {
			codes := make([]string, 0, len(out.Errors))
			for _, e := range out.Errors {
				codes = append(codes, aws.ToString(e.Code))
			}
			return fmt.Errorf("delete object: %d of %d versions not deleted (%s)", len(out.Errors), len(batch), strings.Join(codes, ", "))
		}
	}
	return nil
}

// DeleteVersion removes one version of an object. versionID must be set:
// without it S3 would only add a delete marker.
func (f *Files) DeleteVersion(ctx context.Context, key, versionID string) error {
	if versionID == "" {
		return errors.New("delete object version: no version id")
	}
	_, err := f.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:    aws.String(f.bucket),
		Key:       aws.String(key),
		VersionId: aws.String(versionID),
	})
	if err != nil {
		return fmt.Errorf("delete object version: %w", err)
	}
	return nil
}

// MarkSubmitted replaces the current version's tags with kyc-state=submitted,
// so the lifecycle rule for never-submitted uploads leaves it alone.
func (f *Files) MarkSubmitted(ctx context.Context, key, versionID string) error {
	_, err := f.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket:    aws.String(f.bucket),
		Key:       aws.String(key),
		VersionId: nonEmpty(versionID),
		Tagging: &types.Tagging{TagSet: []types.Tag{{
			Key: aws.String(contract.TagState), Value: aws.String(contract.StateSubmitted),
		}}},
	})
	if err != nil {
		return fmt.Errorf("tag object submitted: %w", err)
	}
	return nil
}

// PresignView returns a link, valid for ttl (at most MaxViewTTL), that shows
// a reviewer d's view object (kyc.Document.ViewObject: the reviewed copy of
// an image, the validated version of a PDF) inline, with its validated
// content type, named after the document type (never the customer's file
// name), and not to be cached.
func (f *Files) PresignView(ctx context.Context, d kyc.Document, ttl time.Duration) (kyc.Link, error) {
	key, version, ct := d.ViewObject()
	return f.presignGet(ctx, key, version, ct, disposition("inline", d.Type, ct), ttl, MaxViewTTL)
}

// PresignExport returns a link, for an approved disclosure, valid for ttl (at
// most MaxExportTTL), that downloads d's validated original (the evidence,
// not the reviewed copy) as an attachment of its content type.
func (f *Files) PresignExport(ctx context.Context, d kyc.Document, ttl time.Duration) (kyc.Link, error) {
	return f.presignGet(ctx, d.Key, d.VersionID, d.ContentType, ContentDisposition(d), ttl, MaxExportTTL)
}

func (f *Files) presignGet(ctx context.Context, key, version, contentType, disp string, ttl, max time.Duration) (kyc.Link, error) {
	if ttl <= 0 || ttl > max {
		return kyc.Link{}, fmt.Errorf("presign download: ttl %s is outside (0, %s]", ttl, max)
	}
	if key == "" || contentType == "" || version == "" {
		return kyc.Link{}, errors.New("presign download: the document has no validated object version")
	}
	in := &s3.GetObjectInput{
		Bucket:                     aws.String(f.bucket),
		Key:                        aws.String(key),
		VersionId:                  aws.String(version),
		ResponseContentDisposition: aws.String(disp),
		ResponseContentType:        aws.String(contentType),
		ResponseCacheControl:       aws.String("no-store"),
	}
	expiresAt := time.Now().Add(ttl) // the signing time is later: never later than the real expiry
	req, err := f.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return kyc.Link{}, fmt.Errorf("presign download: %w", err)
	}
	return kyc.Link{URL: req.URL, ExpiresAt: expiresAt}, nil
}

// ContentDisposition is the Content-Disposition an export link forces:
// attachment; filename="<type>.<ext>", e.g. "passport.pdf".
func ContentDisposition(d kyc.Document) string {
	return disposition("attachment", d.Type, d.ContentType)
}

// disposition is a Content-Disposition of kind (inline or attachment) with a
// file name made of the document type and the extension of contentType.
// Characters other than letters, digits, '_' and '-' become '_', so the
// header can never be broken out of.
func disposition(kind string, typ kyc.DocType, contentType string) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, string(typ))
	if name == "" {
		name = "document"
	}
	return kind + `; filename="` + name + "." + kyc.FileExtension(contentType) + `"`
}

// nonEmpty returns nil for "", else a pointer to s.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
