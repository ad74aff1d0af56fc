package idcheck_test

import (
	"fmt"

	"github.com/kycgate/kycgate/shared/kyc/idcheck"
)

func ExampleCheck() {
	r := idcheck.Check(idcheck.Input{DocumentType: "national_id", DocumentNumber: "a123456 (4)"})
	fmt.Println(r.NumberFormat)
	for _, f := range r.Findings {
		fmt.Println(f.Field, f.Code)
	}
	// Output:
	// hkid
	// documentNumber check_digit_mismatch
}

func ExampleCheck_mrz() {
	r := idcheck.Check(idcheck.Input{
		DocumentType:   "passport",
		DocumentNumber: "L898902C4",
		MRZ: "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\r\n" +
			"L898902C36UTO7408122F1204159ZE184226B<<<<<10\r\n",
	})
	fmt.Println(r.MRZ.Format, r.MRZ.Surname, r.MRZ.GivenNames, r.MRZ.ExpiryDate)
	for _, f := range r.Findings {
		fmt.Println(f.Field, f.Code)
	}
	// Output:
	// mrz_td3 ERIKSSON ANNA MARIA 120415
	// documentNumber mrz_number_mismatch
}

func ExampleParseNumber() {
	n, ok := idcheck.ParseNumber("ａｄ３０１９６８１８") // full-width, as a Chinese input method types it
	fmt.Println(ok, n.Format, n.Canonical, n.CheckDigitOK)
	// Output:
	// true tw_arc_old AD30196818 true
}
