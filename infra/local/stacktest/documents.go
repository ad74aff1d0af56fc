package stacktest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"sort"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// Sample documents: a real, decodable JPEG and a well-formed one-page PDF
// (its cross-reference table pointing at every object), both accepted by the
// validator's decoding check (shared/filecheck).
var (
	JPEG = func() []byte {
		img := image.NewRGBA(image.Rect(0, 0, 8, 8))
		img.Set(1, 1, color.RGBA{200, 10, 10, 255})
		var b bytes.Buffer
		_ = jpeg.Encode(&b, img, nil)
		return b.Bytes()
	}()
	PDF = kyctest.Content(kyc.PDF, 400)
)

// PostForm uploads data to a presigned POST form as a browser does: the
// form's fields first, then the file.
func PostForm(client *http.Client, up kyc.Upload, data []byte, contentType string) error {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	keys := make([]string, 0, len(up.Fields))
	for k := range up.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = w.WriteField(k, up.Fields[k])
	}
	part, _ := w.CreatePart(map[string][]string{
		"Content-Disposition": {`form-data; name="file"; filename="upload"`},
		"Content-Type":        {contentType},
	})
	_, _ = part.Write(data)
	_ = w.Close()
	res, err := client.Post(up.URL, w.FormDataContentType(), &b)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		body, _ := io.ReadAll(res.Body)
		return fmt.Errorf("upload = %d %s", res.StatusCode, body)
	}
	return nil
}
