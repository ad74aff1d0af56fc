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
)

// Sample documents: a real, decodable JPEG and a minimal well-formed PDF.
var (
	JPEG = func() []byte {
		img := image.NewRGBA(image.Rect(0, 0, 8, 8))
		img.Set(1, 1, color.RGBA{200, 10, 10, 255})
		var b bytes.Buffer
		_ = jpeg.Encode(&b, img, nil)
		return b.Bytes()
	}()
	PDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
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
