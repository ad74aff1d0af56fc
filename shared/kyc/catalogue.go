package kyc

import (
	"bytes"
	"slices"
	"strings"
)

// Label is a text in the two languages of the policy.
type Label struct {
	En     string `json:"en"`
	ZhHant string `json:"zh-Hant"`
}

// Category is one of the two kinds of document the policy asks for (P3).
type Category string

const (
	Identity Category = "identity" // government-issued photo ID
	Address  Category = "address"  // proof of address with full name and address
)

// DocType is a kind of document within a category.
type DocType string

const (
	NationalID           DocType = "national_id"
	DrivingLicense       DocType = "driving_license"
	Passport             DocType = "passport" // passport or other travel document
	Visa                 DocType = "visa"
	BusinessRegistration DocType = "business_registration" // business customers
	BankStatement        DocType = "bank_statement"        // bank or credit-card statement
	UtilityBill          DocType = "utility_bill"
	TaxReturn            DocType = "tax_return"
)

// Utility is the sub-type of a utility bill.
type Utility string

const (
	Water       Utility = "water"
	Electricity Utility = "electricity"
	Gas         Utility = "gas"
	Landline    Utility = "landline"
	Internet    Utility = "internet"
	CableTV     Utility = "cable_tv"
	MobilePhone Utility = "mobile_phone"
)

// CategorySpec describes a category and its document types.
type CategorySpec struct {
	Category Category   `json:"category"`
	Label    Label      `json:"label"`
	Types    []TypeSpec `json:"types"`
}

// TypeSpec describes one document type.
type TypeSpec struct {
	Type      DocType       `json:"type"`
	Label     Label         `json:"label"`
	Utilities []UtilitySpec `json:"utilities,omitempty"`
}

// UtilitySpec describes one utility sub-type.
type UtilitySpec struct {
	Utility Utility `json:"utility"`
	Label   Label   `json:"label"`
}

// Catalogue is the document catalogue of the policy, with the labels the seed
// text gives in English and Traditional Chinese.
var Catalogue = []CategorySpec{
	{
		Category: Identity,
		Label:    Label{"Government-issued photo ID (to verify your identity)", "政府發布的帶有照片的證件(以驗證您的身份)"},
		Types: []TypeSpec{
			{Type: NationalID, Label: Label{"National ID card", "身份證"}},
			{Type: DrivingLicense, Label: Label{"Driving license", "駕駛執照"}},
			{Type: Passport, Label: Label{"Passport and other travel documents", "護照或者其他旅行證件"}},
			{Type: Visa, Label: Label{"Visa stamp", "旅行簽證頁"}},
			{Type: BusinessRegistration, Label: Label{"Business registration certificate (for business)", "商業註冊登記證(商業客戶)"}},
		},
	},
	{
		Category: Address,
		Label:    Label{"Proof of address with your full name and address", "地址證明,帶有您的全名和地址"},
		Types: []TypeSpec{
			{Type: BankStatement, Label: Label{"Bank / credit card statement", "銀行/信用卡對帳單"}},
			{Type: UtilityBill, Label: Label{"Utility bill", "水電費帳單"}, Utilities: []UtilitySpec{
				{Water, Label{"Water", "水"}},
				{Electricity, Label{"Electricity", "電"}},
				{Gas, Label{"Gas", "氣"}},
				{Landline, Label{"Landline", "座機"}},
				{Internet, Label{"Internet", "互聯網"}},
				{CableTV, Label{"Cable TV", "有線電視"}},
				{MobilePhone, Label{"Mobile phone", "手機帳單"}},
			}},
			{Type: TaxReturn, Label: Label{"Tax return", "報稅表"}},
		},
	},
}

// LookupType returns the category and spec of a document type.
func LookupType(t DocType) (Category, TypeSpec, bool) {
	for _, c := range Catalogue {
		for _, ts := range c.Types {
			if ts.Type == t {
				return c.Category, ts, true
			}
		}
	}
	return "", TypeSpec{}, false
}

// Accepted content types of uploaded documents.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	PDF  = "application/pdf"
)

// ContentTypes lists the accepted content types.
var ContentTypes = []string{JPEG, PNG, PDF}

// DefaultMaxUploadBytes is the largest accepted document unless configured.
const DefaultMaxUploadBytes = 10 << 20

// magic is the signature each accepted content type starts with.
var magic = map[string][]byte{
	JPEG: {0xFF, 0xD8, 0xFF},
	PNG:  {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
	PDF:  []byte("%PDF-"),
}

// SniffLen is how many leading bytes Sniff needs.
const SniffLen = 8

// Sniff returns the accepted content type whose signature head starts with, or
// "" if none does.
func Sniff(head []byte) string {
	for _, ct := range ContentTypes {
		if bytes.HasPrefix(head, magic[ct]) {
			return ct
		}
	}
	return ""
}

// FileExtension returns the usual file extension of an accepted content type.
func FileExtension(contentType string) string {
	switch contentType {
	case JPEG:
		return "jpg"
	case PNG:
		return "png"
	case PDF:
		return "pdf"
	}
	return "bin"
}

// ReasonCode is why a reviewer rejected a document. Each has customer-facing
// text in both languages; Resubmittable reasons ask for a new document of the
// same kind, the others reject it outright.
type ReasonCode string

// ReasonSpec describes a rejection reason.
type ReasonSpec struct {
	Code          ReasonCode `json:"code"`
	Text          Label      `json:"text"`
	Resubmittable bool       `json:"resubmittable"`
}

// Reasons is the list of rejection reasons a reviewer may give.
var Reasons = []ReasonSpec{
	{"unreadable", Label{"The document is blurry or cannot be read.", "文件模糊或無法辨認。"}, true},
	{"incomplete", Label{"Part of the document is missing or cut off.", "文件不完整或部分被裁切。"}, true},
	{"expired_document", Label{"The document has expired.", "文件已過期。"}, true},
	{"name_mismatch", Label{"The name does not match the account holder.", "姓名與帳戶持有人不符。"}, true},
	{"address_missing", Label{"The document does not show your full name and address.", "文件未顯示您的全名和地址。"}, true},
	{"too_old", Label{"The statement or bill is more than three months old.", "對帳單或帳單已超過三個月。"}, true},
	{"wrong_type", Label{"This is not one of the accepted documents for this category.", "此文件不屬於此類別接受的文件。"}, true},
	{"no_photo", Label{"The ID does not show a photo of the holder.", "證件沒有持有人的照片。"}, true},
	{"altered", Label{"The document appears to have been altered.", "文件似乎經過修改。"}, false},
	{"other", Label{"Please read the message from our staff.", "請參閱我們職員的訊息。"}, true},
}

// ReasonCodeList is a list of reason codes; it prints as "a, b, c".
type ReasonCodeList []ReasonCode

func (l ReasonCodeList) String() string {
	s := make([]string, len(l))
	for i, c := range l {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// ReasonCodes returns every reason code, in the order of Reasons.
func ReasonCodes() ReasonCodeList {
	out := make(ReasonCodeList, len(Reasons))
	for i, r := range Reasons {
		out[i] = r.Code
	}
	return out
}

// LookupReason returns the spec of a reason code.
func LookupReason(c ReasonCode) (ReasonSpec, bool) {
	i := slices.IndexFunc(Reasons, func(r ReasonSpec) bool { return r.Code == c })
	if i < 0 {
		return ReasonSpec{}, false
	}
	return Reasons[i], true
}

// InvalidReason is why an uploaded object failed validation.
type InvalidReason string

const (
	InvalidMissing      InvalidReason = "missing"
	InvalidEmpty        InvalidReason = "empty"
	InvalidTooLarge     InvalidReason = "too_large"
	InvalidTypeMismatch InvalidReason = "type_mismatch"
	InvalidEncryption   InvalidReason = "not_encrypted"
	InvalidSizeMismatch InvalidReason = "size_mismatch" // not the size declared when the upload was requested

	// Why the bytes do not decode as the declared type (the codes of
	// shared/filecheck; InvalidTypeMismatch and InvalidTooLarge are shared).
	InvalidUndecodable      InvalidReason = "undecodable"
	InvalidTooManyPixels    InvalidReason = "too_many_pixels"
	InvalidPDFActiveContent InvalidReason = "pdf_active_content"
	InvalidPDFEncrypted     InvalidReason = "pdf_encrypted"
	InvalidPDFMalformed     InvalidReason = "pdf_malformed"

	// The malware scan's verdicts (Scanner).
	InvalidMalware    InvalidReason = "malware"     // the scan found a threat; the file was deleted
	InvalidScanFailed InvalidReason = "scan_failed" // the file could not be scanned, so it cannot be accepted
)

// InvalidTexts are the customer-facing explanations of failed validations.
var InvalidTexts = map[InvalidReason]Label{
	InvalidMissing:      {"The upload did not arrive. Please upload the file again.", "上傳未完成,請重新上傳文件。"},
	InvalidEmpty:        {"The uploaded file is empty.", "上傳的文件是空的。"},
	InvalidTooLarge:     {"The uploaded file is larger than allowed.", "上傳的文件超過允許的大小。"},
	InvalidTypeMismatch: {"The file is not the type you declared (JPEG, PNG or PDF).", "文件類型與您聲明的不符(JPEG、PNG 或 PDF)。"},
	InvalidEncryption:   {"The file was not stored encrypted. Please upload it again.", "文件未加密存儲,請重新上傳。"},
	InvalidSizeMismatch: {"The uploaded file is not the size that was announced. Please upload it again.", "上傳的文件大小與申報的不符,請重新上傳。"},
	InvalidUndecodable: {"The image is damaged or incomplete and cannot be opened. Please upload a new photo or scan.",
		"圖片已損壞或不完整,無法開啟。請重新上傳照片或掃描件。"},
	InvalidTooManyPixels: {"The image has too many pixels (at most 40 megapixels). Please upload a smaller photo or scan.",
		"圖片像素過多(最多 4000 萬像素),請上傳較小的照片或掃描件。"},
	InvalidPDFActiveContent: {"The PDF contains scripts, attachments, forms or links we cannot accept. Please save it as a plain PDF or upload a photo.",
		"PDF 含有我們無法接受的程式碼、附件、表單或連結。請另存為普通 PDF 或上傳照片。"},
	InvalidPDFEncrypted: {"The PDF is password-protected or encrypted. Please upload an unprotected copy.",
		"PDF 受密碼保護或已加密,請上傳未加密的版本。"},
	InvalidPDFMalformed: {"The PDF is damaged or cannot be read. Please save it again as PDF or upload a photo.",
		"PDF 已損壞或無法讀取。請重新儲存為 PDF 或上傳照片。"},
	InvalidMalware: {"Our malware scan found a threat in this file, so it was deleted. Please check your device for malware, then upload a new photo or scan of the document.",
		"我們的惡意軟件掃描在此文件中發現威脅,文件已被刪除。請檢查您的裝置是否有惡意軟件,然後重新上傳文件的照片或掃描件。"},
	InvalidScanFailed: {"The file could not be checked for malware, so it cannot be accepted. Please upload it again, or a photo or scan of the document.",
		"無法為此文件進行惡意軟件檢查,因此無法接受。請重新上傳,或上傳文件的照片或掃描件。"},
}

// ProductSet is the product catalogue: every product id the gate may see in
// an order, true for those that require KYC (P1). Orders of the others are
// never held; an order of a product not in the catalogue is refused (so a
// typo in the catalogue or in billing is noticed, never silently unheld).
type ProductSet map[string]bool

// ParseProducts reads a comma-separated list of product ids that require KYC.
func ParseProducts(list string) ProductSet {
	ps := ProductSet{}
	ps.Add(list, true)
	return ps
}

// Add adds a comma-separated list of product ids, requiring KYC or not. A
// product already listed as requiring KYC keeps requiring it.
func (ps ProductSet) Add(list string, requiresKYC bool) {
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ps[p] = ps[p] || requiresKYC
		}
	}
}

// Known reports whether the product is in the catalogue.
func (ps ProductSet) Known(productID string) bool {
	_, ok := ps[productID]
	return ok
}

// RequiresKYC reports whether orders of the product need a verified customer.
func (ps ProductSet) RequiresKYC(productID string) bool { return ps[productID] }
