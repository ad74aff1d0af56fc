package filecheck_test

import (
	"slices"
	"testing"

	"github.com/kycgate/kycgate/shared/filecheck"
	"github.com/kycgate/kycgate/shared/kyc"
)

// The package checks exactly the content types the domain accepts, within
// the domain's upload limit.
func TestMatchesTheDomain(t *testing.T) {
	if !slices.Equal(kyc.ContentTypes, []string{filecheck.JPEG, filecheck.PNG, filecheck.PDF}) {
		t.Errorf("kyc.ContentTypes = %v", kyc.ContentTypes)
	}
	if filecheck.MaxBytes != kyc.DefaultMaxUploadBytes {
		t.Errorf("MaxBytes %d, kyc.DefaultMaxUploadBytes %d", filecheck.MaxBytes, kyc.DefaultMaxUploadBytes)
	}
}
