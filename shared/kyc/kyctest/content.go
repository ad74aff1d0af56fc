package kyctest

import "github.com/kycgate/kycgate/shared/kyc"

// magic is the signature each accepted content type starts with.
var magic = map[string][]byte{
	kyc.JPEG: {0xFF, 0xD8, 0xFF, 0xE0},
	kyc.PNG:  {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
	kyc.PDF:  []byte("%PDF-1.7\n"),
}

// Content returns size bytes that start as a file of contentType does (its
// magic bytes), so validation accepts them as that type; for another content
// type they start with none of the accepted signatures. Sizes below the
// signature's length return the signature cut short.
func Content(contentType string, size int) []byte {
	b := make([]byte, size)
	sig, ok := magic[contentType]
	if !ok {
		sig = []byte("plain text, no signature")
	}
	copy(b, sig)
	for i := len(sig); i < size; i++ {
		b[i] = byte('a' + i%26)
	}
	return b
}
