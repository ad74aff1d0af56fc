package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Languages of the pages: the two of the policy.
const (
	LangEn     = "en"
	LangZhHant = "zh-Hant"
)

// langCookie remembers a language a person chose with the switch.
const langCookie = "__Host-kyc-lang"

// language picks the page's language: the switch (?lang=), then the
// remembered choice, then Accept-Language (any Chinese but Simplified reads
// Traditional; everything else English).
func language(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == LangEn || l == LangZhHant {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == LangEn || c.Value == LangZhHant) {
		return c.Value
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// fromAcceptLanguage reads an Accept-Language header in order of quality
// (ties in the order given).
func fromAcceptLanguage(h string) string {
	best, bestQ := LangEn, -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				q = 0
			}
		}
		tag = strings.ToLower(strings.TrimSpace(tag))
		var l string
		switch {
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			l = LangEn
		case tag == "zh-hans" || tag == "zh-cn" || tag == "zh-sg" || strings.HasPrefix(tag, "zh-hans-"):
			l = "" // Simplified: not offered; English follows unless Traditional is also asked for
		case tag == "zh" || strings.HasPrefix(tag, "zh-"):
			l = LangZhHant
		}
		if l != "" && q > bestQ && q > 0 {
			best, bestQ = l, q
		}
	}
	return best
}

// text returns a catalogue entry in a language. A key not in the catalogue
// is a programming error (the tests render every page in both languages).
func text(lang, key string) string {
	l, ok := messages[key]
	if !ok {
		panic("web: no message " + key)
	}
	if lang == LangZhHant {
		return l[1]
	}
	return l[0]
}

// pick returns a label's text in a language.
func pick(lang string, l kyc.Label) string {
	if lang == LangZhHant {
		return l.ZhHant
	}
	return l.En
}

// messages is the pages' one bilingual catalogue: every string a page shows
// (the document catalogue, reasons and validation texts come with their own
// labels from package kyc).
var messages = map[string][2]string{
	// Common.
	"product":           {"KYC gate", "KYC 身份驗證"},
	"lang.switch":       {"中文", "English"},
	"lang.switch.to":    {LangZhHant, LangEn},
	"lang.name":         {"English", "繁體中文"},
	"lang.label":        {"Language", "語言"},
	"signout":           {"Sign out", "登出"},
	"signedin.as":       {"Signed in as", "已登入:"},
	"skip":              {"Skip to content", "跳到內容"},
	"utc":               {"UTC", "UTC"},
	"none":              {"None", "沒有"},
	"yes":               {"Yes", "是"},
	"no":                {"No", "否"},
	"back":              {"Back", "返回"},
	"error.title":       {"Something went wrong", "出現問題"},
	"error.internal":    {"Something went wrong on our side. Please try again in a moment.", "系統發生錯誤,請稍後再試。"},
	"error.notfound":    {"Not found.", "找不到。"},
	"error.conflict":    {"This changed in the meantime. Reload the page and try again.", "資料已被更改,請重新載入頁面後再試。"},
	"error.invalid":     {"Please check what you entered.", "請檢查您輸入的內容。"},
	"error.forbidden":   {"You may not do this.", "您沒有權限執行此操作。"},
	"error.toolarge":    {"The file is too large.", "文件太大。"},
	"error.ratelimit":   {"Too many attempts. Please wait a while and try again.", "嘗試次數過多,請稍候再試。"},
	"error.crossorigin": {"This request did not come from this site and was refused.", "此請求並非來自本網站,已被拒絕。"},
	"error.session":     {"Your session has ended. Please sign in again.", "您的登入已過期,請重新登入。"},
	"error.malformed":   {"The request could not be read.", "無法讀取此請求。"},

	// Customer sign-in.
	"signin.title":       {"Sign in to verify your identity", "登入以驗證您的身份"},
	"signin.body":        {"Open this page from your account in our billing system: use the “Verify my identity” button there. It signs you in here without another password.", "請在我們的帳單系統中,透過您帳戶內的「驗證身份」按鈕開啟此頁面,無需另設密碼即可登入。"},
	"signin.failed":      {"The sign-in link was not valid or has already been used. Go back to your account and press “Verify my identity” again.", "登入連結無效或已被使用。請返回您的帳戶,再按一次「驗證身份」。"},
	"signin.unavailable": {"Sign-in from the billing system is not configured yet.", "尚未設定帳單系統登入。"},

	// The customer's page.
	"verify.title":               {"Identity verification", "身份驗證"},
	"verify.customer":            {"Customer", "客戶編號"},
	"verify.status":              {"Your status", "您的狀態"},
	"status.unverified":          {"Not verified", "未驗證"},
	"status.pending_review":      {"In review", "審核中"},
	"status.verified":            {"Verified", "已驗證"},
	"status.rejected":            {"Action needed", "需要處理"},
	"status.expired":             {"Verification expired", "驗證已過期"},
	"status.unverified.help":     {"To start the servers you ordered, send us one document from each list below.", "請從下列每個類別各提交一份文件,以開通您訂購的伺服器。"},
	"status.pending_review.help": {"Your documents are in review. We will e-mail you when a reviewer has decided; you do not need to do anything now.", "您的文件正在審核中。審核完成後我們會以電郵通知您,您現在無需任何操作。"},
	"status.verified.help":       {"You are verified. Servers you order are started right away.", "您已通過驗證,您訂購的伺服器將會立即開通。"},
	"status.rejected.help":       {"A reviewer could not accept a document. Read why below and upload a new one.", "審核員未能接受某份文件。請閱讀下方原因並重新上傳。"},
	"status.expired.help":        {"Your verification is more than two years old. Please send new documents.", "您的驗證已超過兩年,請重新提交文件。"},
	"verify.verifiedAt":          {"Verified on", "驗證日期"},
	"verify.expiresAt":           {"Valid until", "有效期至"},
	"verify.next.title":          {"What happens next", "接下來會怎樣"},
	"verify.next.review":         {"A reviewer checks both documents, usually within one working day.", "審核員會檢查兩份文件,通常於一個工作天內完成。"},
	"verify.next.ontime":         {"You sent them in time: your orders will not be suspended while we review, and an approval extends your next due date by the time you waited.", "您已準時提交:審核期間您的訂單不會被暫停,批准後您的下次付款日將按等候時間延長。"},
	"verify.next.email":          {"We e-mail you the result. If a document is not accepted, this page says why and you can send a new one.", "我們會以電郵通知結果。如文件未被接受,此頁會說明原因,您可重新提交。"},

	"orders.title":              {"Orders waiting for verification", "等待驗證的訂單"},
	"orders.none":               {"You have no orders waiting.", "您沒有等待中的訂單。"},
	"orders.order":              {"Order", "訂單"},
	"orders.service":            {"Service", "服務"},
	"orders.product":            {"Product", "產品"},
	"orders.state":              {"State", "狀態"},
	"orders.deadline":           {"Deadline", "限期"},
	"orders.left":               {"Time left", "剩餘時間"},
	"orders.passed":             {"passed", "已過期"},
	"orders.paused":             {"Paused while we review your documents", "審核期間暫停計時"},
	"orders.countdown":          {"%d d %d h %d min", "%d 天 %d 小時 %d 分鐘"},
	"hold.awaiting_kyc":         {"Waiting for your documents", "等待您的文件"},
	"hold.awaiting_review":      {"Waiting for our review", "等待我們審核"},
	"hold.suspended_kyc":        {"Suspended until verified", "已暫停,待驗證後恢復"},
	"hold.provisioned_extended": {"Started, due date extended", "已開通,付款日已延長"},
	"hold.released":             {"Started", "已開通"},
	"hold.provisioned":          {"Started", "已開通"},
	"hold.not_required":         {"No verification needed", "無需驗證"},
	"hold.expired":              {"Service ended", "服務已結束"},
	"hold.cancelled":            {"Cancelled", "已取消"},

	// Hold states as staff see them (the console; the code is shown beside).
	"staffhold.awaiting_kyc":         {"Waiting for the customer's documents", "等待客戶提交文件"},
	"staffhold.awaiting_review":      {"Waiting for review", "等待審核"},
	"staffhold.suspended_kyc":        {"Suspended for verification", "因身份驗證暫停"},
	"staffhold.provisioned_extended": {"Provisioned, due date extended", "已開通,付款日已延長"},
	"staffhold.released":             {"Provisioned late, no extension", "逾期後開通,不延長"},
	"staffhold.provisioned":          {"Provisioned", "已開通"},
	"staffhold.not_required":         {"No verification needed", "無需驗證"},
	"staffhold.expired":              {"Service ended", "服務已結束"},
	"staffhold.cancelled":            {"Cancelled", "已取消"},
	"console.kycStatus":              {"KYC status", "身份驗證狀態"},

	"needed.title": {"What we need", "所需文件"},
	"needed.rule":  {"One document from each list, of the same person or company. JPEG, PNG or PDF, up to %s each.", "每個類別各一份,須屬同一人士或公司。JPEG、PNG 或 PDF,每份不超過 %s。"},

	"docs.title":             {"Your documents", "您的文件"},
	"docs.none":              {"You have not uploaded any document yet.", "您尚未上傳任何文件。"},
	"docs.type":              {"Document", "文件"},
	"docs.uploaded":          {"Uploaded", "上傳時間"},
	"docs.state":             {"State", "狀態"},
	"doc.pending_upload":     {"Being checked", "檢查中"},
	"doc.scanning":           {"Being checked", "檢查中"},
	"doc.valid":              {"Uploaded and checked", "已上傳並通過檢查"},
	"doc.in_review":          {"In review", "審核中"},
	"doc.invalid":            {"Refused", "被拒絕"},
	"doc.purged":             {"Deleted", "已刪除"},
	"doc.approved":           {"Approved", "已批准"},
	"doc.rejected":           {"Not accepted", "未被接受"},
	"doc.resubmit_requested": {"Not accepted: please send a new one", "未被接受:請重新提交"},
	"doc.message":            {"Message from our staff", "職員留言"},

	"upload.title":    {"Upload a document", "上傳文件"},
	"upload.category": {"Category", "類別"},
	"upload.type":     {"Document type", "文件類型"},
	"upload.utility":  {"Kind of bill", "帳單種類"},
	"upload.file":     {"Choose a file", "選擇文件"},
	"upload.photo":    {"or take a photo", "或拍攝照片"},
	"upload.send":     {"Upload", "上傳"},
	"upload.progress": {"Upload progress", "上傳進度"},
	"upload.nojs":     {"Uploading needs JavaScript. Please enable it for this page.", "上傳需要 JavaScript,請為此頁啟用。"},
	"upload.scaling":  {"Preparing the photo…", "正在處理照片…"},
	"upload.sending":  {"Uploading…", "上傳中…"},
	"upload.checking": {"Uploaded. Checking the file…", "已上傳,正在檢查文件…"},
	"upload.accepted": {"The file was checked and accepted.", "文件已通過檢查。"},
	"upload.refused":  {"The file was refused:", "文件被拒絕:"},
	"upload.failed":   {"The upload failed. Please try again.", "上傳失敗,請再試一次。"},
	"upload.slow":     {"The check takes longer than usual. The page will show the result when you reload it.", "檢查時間比平常長,重新載入頁面即可看到結果。"},
	"upload.nofile":   {"Choose a file or take a photo first.", "請先選擇文件或拍攝照片。"},
	"upload.badtype":  {"Only JPEG, PNG and PDF files are accepted.", "只接受 JPEG、PNG 及 PDF 文件。"},
	"upload.toolarge": {"The file is larger than allowed.", "文件超過允許的大小。"},

	"submit.title":    {"Send for review", "提交審核"},
	"submit.identity": {"Proof of identity", "身份證明"},
	"submit.address":  {"Proof of address", "地址證明"},
	"submit.send":     {"Send both documents for review", "提交兩份文件以供審核"},
	"submit.need":     {"Upload one identity and one address document; once both are checked you can send them here.", "請上傳一份身份證明及一份地址證明;兩份均通過檢查後即可在此提交。"},
	"submit.done":     {"Your documents were sent for review.", "您的文件已提交審核。"},

	// Staff sign-in and console.
	"console.title":        {"Reviewer console", "審核控制台"},
	"console.signin":       {"Sign in", "登入"},
	"console.signin.body":  {"Staff sign in with the company's identity provider.", "職員請使用公司的身份提供者登入。"},
	"console.signin.again": {"Please sign in again to confirm it is you.", "請重新登入以確認身份。"},
	"console.notstaff":     {"Your account is not in the kyc-reviewers or kyc-admins group.", "您的帳戶不屬於 kyc-reviewers 或 kyc-admins 群組。"},
	"console.signinfailed": {"The sign-in did not complete. Please try again.", "登入未能完成,請再試一次。"},
	"nav.queue":            {"Queue", "待審佇列"},
	"nav.disclosures":      {"Disclosures", "資料披露"},
	"nav.find":             {"Find a customer", "搜尋客戶"},
	"nav.find.go":          {"Open", "開啟"},
	"nav.shortcuts":        {"Keyboard shortcuts", "鍵盤快捷鍵"},
	"role.reviewer":        {"reviewer", "審核員"},
	"role.admin":           {"admin", "管理員"},

	"queue.title":      {"Submissions waiting for review", "等待審核的提交"},
	"queue.show":       {"Show", "顯示"},
	"queue.all":        {"All", "全部"},
	"queue.mine":       {"Mine", "我的"},
	"queue.unclaimed":  {"Unclaimed", "未認領"},
	"queue.empty":      {"Nothing is waiting.", "沒有等待中的項目。"},
	"queue.submission": {"Submission", "提交"},
	"queue.customer":   {"Customer", "客戶"},
	"queue.submitted":  {"Submitted", "提交時間"},
	"queue.age":        {"Waiting", "等候時間"},
	"queue.claim":      {"Claimed by", "認領者"},
	"queue.nobody":     {"nobody", "未認領"},
	"queue.you":        {"you", "您"},
	"queue.open":       {"Review", "審核"},
	"queue.refreshed":  {"Updated", "更新於"},
	"sla.near":         {"SLA soon", "即將逾時"},
	"sla.past":         {"SLA passed", "已逾時"},
	"sla.help":         {"Review SLA: %s", "審核時限:%s"},

	"review.title":           {"Review", "審核"},
	"review.customer":        {"Customer", "客戶"},
	"review.status":          {"Submission", "提交狀態"},
	"review.version":         {"Version", "版本"},
	"review.claimedby":       {"Claimed by", "認領者"},
	"review.claim":           {"Claim", "認領"},
	"review.release":         {"Release", "釋放"},
	"review.claimfirst":      {"Claim the submission to see its documents and decide.", "請先認領此提交,方可查看文件及作出決定。"},
	"review.decided":         {"This submission is decided.", "此提交已有決定。"},
	"review.identity":        {"Proof of identity", "身份證明"},
	"review.address":         {"Proof of address", "地址證明"},
	"review.zoomin":          {"Zoom in", "放大"},
	"review.zoomout":         {"Zoom out", "縮小"},
	"review.rotate":          {"Rotate", "旋轉"},
	"review.fit":             {"Fit", "適合大小"},
	"review.pdf":             {"PDF document", "PDF 文件"},
	"review.pdf.open":        {"Open the PDF", "開啟 PDF"},
	"review.linkexpires":     {"Links expire at", "連結到期時間"},
	"review.holds":           {"Held orders", "被暫停的訂單"},
	"review.history":         {"Earlier submissions and decisions", "過往提交及決定"},
	"review.history.none":    {"None.", "沒有。"},
	"review.decision":        {"Decision", "決定"},
	"review.approve":         {"Approve", "批准"},
	"review.reject":          {"Reject", "拒絕"},
	"review.reasons":         {"Reasons (the customer sees this text)", "原因(客戶會看到以下文字)"},
	"review.message":         {"Message to the customer (the customer sees it)", "給客戶的訊息(客戶會看到)"},
	"review.note":            {"Internal note (staff only, never shown to the customer)", "內部備註(只限職員,客戶不會看到)"},
	"review.extracted":       {"Recorded from the documents", "從文件記錄的資料"},
	"review.fullName":        {"Full name", "全名"},
	"review.docNumber":       {"Document number", "證件號碼"},
	"review.docExpiry":       {"Document expiry (YYYY-MM-DD)", "證件到期日(YYYY-MM-DD)"},
	"review.record":          {"Record decision", "記錄決定"},
	"review.changed":         {"This submission changed since you opened it. Check what changed, then decide again.", "此提交在您開啟後已被更改。請查看更改內容,然後再作決定。"},
	"review.changed.version": {"Version: %d → %d", "版本:%d → %d"},
	"review.changed.claim":   {"Claimed by: %s → %s", "認領者:%s → %s"},
	"review.changed.status":  {"Status: %s → %s", "狀態:%s → %s"},
	"review.done":            {"Decision recorded.", "決定已記錄。"},
	"review.result":          {"Result", "結果"},
	"review.customerStatus":  {"Customer status", "客戶狀態"},
	"review.shortcuts":       {"Keyboard shortcuts", "鍵盤快捷鍵"},
	"key.claim":              {"claim", "認領"},
	"key.release":            {"release", "釋放"},
	"key.approveboth":        {"approve both documents (then Enter on “Record decision”)", "批准兩份文件(然後在「記錄決定」按 Enter)"},
	"key.idapprove":          {"approve identity document", "批准身份證明"},
	"key.idreject":           {"reject identity document", "拒絕身份證明"},
	"key.addrapprove":        {"approve address document", "批准地址證明"},
	"key.addrreject":         {"reject address document", "拒絕地址證明"},
	"key.rotate":             {"rotate the document in focus (first one otherwise)", "旋轉目前文件(預設第一份)"},
	"key.zoom":               {"zoom in / out", "放大/縮小"},
	"key.fit":                {"fit to the frame", "適合框架大小"},
	"key.message":            {"write the customer message", "輸入給客戶的訊息"},
	"key.note":               {"write the internal note", "輸入內部備註"},
	"key.decide":             {"go to “Record decision”", "移至「記錄決定」"},
	"key.help":               {"show or hide this list", "顯示或隱藏此列表"},

	// The recording fields, the check and the signals (docs/policy.md,
	// "What the gate tells the reviewer").
	"review.birthDate":      {"Date of birth (YYYY-MM-DD)", "出生日期(YYYY-MM-DD)"},
	"review.mrz":            {"MRZ: the 2 or 3 lines at the bottom of the photo page, pasted as printed", "機讀區(MRZ):證件資料頁底部的 2 或 3 行,按印刷內容貼上"},
	"review.postalAddress":  {"Address", "地址"},
	"review.addressDate":    {"Date of the proof of address: statement or bill date (YYYY-MM-DD)", "地址證明日期:對帳單或帳單日期(YYYY-MM-DD)"},
	"review.check":          {"Check", "檢查"},
	"review.check.help":     {"“Check” records these fields and shows what the gate finds in them, before you decide. “Record decision” records them too.", "「檢查」會記錄以上資料,並在您作出決定前顯示系統的檢查結果。「記錄決定」亦會一併記錄。"},
	"review.checked":        {"Recorded. Read “What the gate found” before you decide.", "已記錄。作出決定前,請先閱讀「系統檢查結果」。"},
	"review.done.waiting":   {"Your approval is recorded but not committed: this document was verified on another account, so it now waits for a second admin.", "您的批准已記錄,但尚未生效:此證件已在另一帳戶通過驗證,現正等待第二位管理員確認。"},
	"review.done.approved":  {"Approved as the second admin: the customer is verified.", "已以第二位管理員身份批准:客戶已通過驗證。"},
	"review.done.returned":  {"Sent back: the approval request is withdrawn and the submission waits for the reviewer again.", "已退回:批准請求已撤回,此提交再次等待審核員處理。"},
	"review.proposed":       {"proposed", "建議"},
	"review.approval":       {"Approval", "批准"},
	"review.approval.wait":  {"Waiting for a second admin (requested by %s)", "等待第二位管理員確認(由 %s 提出)"},
	"review.secondby":       {"Second approval by", "第二位批准者"},
	"review.purpose":        {"Purpose (recorded in the audit trail)", "目的(會記錄於審計記錄)"},
	"review.purpose.open":   {"Open the documents and personal data", "開啟文件及個人資料"},
	"review.purpose.help":   {"As an admin you may open this submission's documents and personal data for a stated purpose; the opening is audited.", "管理員可在說明目的後開啟此提交的文件及個人資料;每次開啟均會被記錄。"},
	"review.purpose.second": {"second approval", "第二位管理員批准"},
	"review.purpose.opened": {"Opened for", "開啟目的"},
	"review.purpose.shown":  {"%s (audited)", "%s(已記錄)"},
	"key.check":             {"check what you recorded (shows what the gate finds)", "檢查已記錄的資料(顯示系統檢查結果)"},

	"approval.title":     {"Approval waiting for a second admin", "等待第二位管理員確認的批准"},
	"approval.requested": {"Requested by", "提出者"},
	"approval.at":        {"Requested at", "提出時間"},
	"approval.why":       {"Why", "原因"},
	"approval.customers": {"Verified on the accounts of", "已於以下客戶帳戶通過驗證"},
	"approval.mine":      {"You requested it: a different admin must confirm it. Until then the submission stays pending; a new decision or a new check replaces the request.", "此請求由您提出,須由另一位管理員確認。確認前此提交仍待審核;新的決定或新的檢查會取代此請求。"},
	"approval.others":    {"An admin who did not request it confirms it or sends it back to the reviewer.", "須由並非提出者的管理員確認或退回審核員。"},
	"approval.open":      {"To answer, open the documents with a purpose (audited): the gate refuses a confirmation by an admin who has not opened the identity document.", "如要回覆,請說明目的並開啟文件(會被記錄):未開啟身份證明的管理員不能確認。"},
	"approval.opened":    {"Compare the accounts that share the document and look at the identity document above before you answer.", "回覆前,請比較共用此證件的帳戶,並查看上方的身份證明。"},
	"approval.approve":   {"Approve (second admin)", "批准(第二位管理員)"},
	"approval.return":    {"Send back to the reviewer", "退回審核員"},

	"signals.title":          {"What the gate found", "系統檢查結果"},
	"signals.unrecorded":     {"Nothing is recorded yet. Record the document number, its expiry, the MRZ and the date of the proof of address below and press “Check”: the gate then looks for the same document on other accounts and checks the digits and dates.", "尚未記錄任何資料。請在下方記錄證件號碼、到期日、機讀區及地址證明日期,然後按「檢查」:系統會搜尋其他帳戶上的相同證件,並檢查號碼及日期。"},
	"signals.second":         {"Approving this submission needs a second admin: this document number was verified on another customer's account.", "批准此提交須由第二位管理員確認:此證件號碼已在另一客戶帳戶通過驗證。"},
	"signals.expired":        {"The identity document has expired: it cannot be approved.", "身份證明已過期:不能批准。"},
	"signals.judged":         {"Dates judged on", "日期判斷基準"},
	"signals.zone":           {"%s (the service region's date and time zone)", "%s(服務地區的日期及時區)"},
	"signals.judgedon":       {"(judged on %s)", "(判斷基準:%s)"},
	"signals.expiry":         {"Identity document expiry", "身份證明到期日"},
	"signals.expiry.expired": {"Expired before %s: it cannot be approved", "於 %s 之前已過期:不能批准"},
	"signals.expiry.valid":   {"Not expired on %s", "於 %s 仍有效"},
	"signals.expiry.none":    {"No expiry date recorded (the MRZ's is used when it has one; Hong Kong and Taiwan identity cards have none)", "未記錄到期日(如機讀區有到期日則採用;香港及台灣身份證沒有到期日)"},
	"signals.addr":           {"Proof of address", "地址證明"},
	"signals.addr.old":       {"More than three months old on %s", "於 %s 已超過三個月"},
	"signals.addr.future":    {"Dated after %s: check the date", "日期在 %s 之後:請核對日期"},
	"signals.addr.recent":    {"Within three months of %s", "於 %s 仍在三個月內"},
	"signals.addr.none":      {"No date recorded", "未記錄日期"},
	"signals.format":         {"Number format", "號碼格式"},
	"signals.warnings":       {"Warnings", "警告"},
	"signals.warnings.none":  {"No warnings.", "沒有警告。"},
	"signals.same":           {"The same document on other accounts", "其他帳戶上的相同證件"},
	"signals.same.none":      {"No other account recorded this document number.", "沒有其他帳戶記錄過此證件號碼。"},
	"signals.same.decision":  {"Identity document there", "該帳戶的身份證明"},
	"signals.same.status":    {"Status there", "該帳戶的提交狀態"},
	"signals.same.decided":   {"Decided", "決定時間"},
	"signals.same.verified":  {"verified there", "已在該帳戶驗證"},
	"signals.proposed":       {"Proposed reasons (ticked in the rejection form, marked “proposed”)", "建議原因(已在拒絕表格中預先勾選,並標示「建議」)"},
	"sub.pending_review":     {"In review", "審核中"},
	"sub.approved":           {"Approved", "已批准"},
	"sub.rejected":           {"Rejected", "已拒絕"},
	"format.hkid":            {"Hong Kong identity card", "香港身份證"},
	"format.tw_national_id":  {"Taiwan national ID", "台灣國民身分證"},
	"format.tw_arc_new":      {"Taiwan resident certificate (format since 2021)", "台灣居留證(2021 年起格式)"},
	"format.tw_arc_old":      {"Taiwan resident certificate (format before 2021)", "台灣居留證(2021 年前格式)"},

	// Each signal's words, by its code (kyc.Warning.Code: idcheck's findings
	// and the policy engine's own), and the fields they name.
	"signal.same_document_verified":      {"This document number was verified on another customer's account: an approval waits for a second admin.", "此證件號碼已在另一客戶帳戶通過驗證:批准須等待第二位管理員確認。"},
	"signal.same_document_other_account": {"This document number was recorded on another customer's account (rejected there, or still pending): see what was decided there.", "此證件號碼曾記錄於另一客戶帳戶(已被拒絕或仍待審核):請查看該帳戶的決定。"},
	"signal.check_digit_mismatch":        {"The check digit does not match the characters it protects: compare each character with the document. If the document itself carries the wrong digit, reject it as altered.", "檢查碼與其所核對的字元不符:請逐一核對文件上的字元。如文件本身印有錯誤的檢查碼,請以「文件似乎經過修改」拒絕。"},
	"signal.unrecognised_format":         {"The number is in none of the known identity card formats: record it as printed.", "號碼不屬於任何已知的身份證格式:請按印刷內容記錄。"},
	"signal.invalid_character":           {"The number has a character document numbers do not use.", "號碼含有證件號碼不會使用的字元。"},
	"signal.too_long":                    {"Longer than any real value.", "比任何實際數值都長。"},
	"signal.missing":                     {"Not recorded. Without a document number the gate cannot look for the same document on other accounts: always record it for identity documents.", "未有記錄。沒有證件號碼,系統無法搜尋其他帳戶上的相同證件:身份證明必須記錄號碼。"},
	"signal.mrz_number_mismatch":         {"The recorded number differs from the number in the MRZ.", "記錄的號碼與機讀區內的號碼不同。"},
	"signal.mrz_expiry_mismatch":         {"The recorded expiry date differs from the expiry date in the MRZ.", "記錄的到期日與機讀區內的到期日不同。"},
	"signal.document_type_mismatch":      {"The document type contradicts the MRZ (a visa's MRZ starts with V, no other's does).", "文件類型與機讀區不符(只有簽證的機讀區以 V 開首)。"},
	"signal.mrz_line_count":              {"An MRZ has 2 or 3 lines: paste exactly those lines.", "機讀區有 2 或 3 行:請只貼上這些行。"},
	"signal.mrz_line_length":             {"A line has a character missing or extra (2 lines of 44 or of 36 characters, or 3 lines of 30).", "某行缺少或多出字元(2 行各 44 或 36 字元,或 3 行各 30 字元)。"},
	"signal.mrz_invalid_character":       {"The MRZ has a character other than A–Z, 0–9 and <, or lower-case letters: paste it as printed.", "機讀區含有 A–Z、0–9 及 < 以外的字元或小寫字母:請按印刷內容貼上。"},
	"signal.invalid_date":                {"Not a calendar date.", "並非有效日期。"},
	"signal.invalid_value":               {"This field of the MRZ holds a value it cannot hold.", "機讀區此欄位的值無效。"},
	"signal.document_expired":            {"The identity document expired before today: it cannot be approved; reject it with “The document has expired.”", "身份證明在今天之前已過期:不能批准;請以「文件已過期。」拒絕。"},
	"signal.address_too_old":             {"The proof of address was issued more than three months before today: reject it as too old unless the provider makes an exception.", "地址證明的發出日期已超過三個月:除非另有例外,請以「對帳單或帳單已超過三個月。」拒絕。"},
	"signal.address_date_in_future":      {"The recorded date is after today: check the date you typed.", "記錄的日期在今天之後:請核對您輸入的日期。"},
	"signal.other":                       {"A check found something to look at (%s).", "檢查發現需要留意的地方(%s)。"},
	"field.fullName":                     {"Full name", "全名"},
	"field.address":                      {"Address", "地址"},
	"field.documentNumber":               {"Document number", "證件號碼"},
	"field.birthDate":                    {"Date of birth", "出生日期"},
	"field.documentExpiry":               {"Document expiry", "證件到期日"},
	"field.addressDate":                  {"Date of the proof of address", "地址證明日期"},
	"field.mrz":                          {"MRZ", "機讀區(MRZ)"},
	"field.mrz.documentCode":             {"MRZ: document code", "機讀區:證件代碼"},
	"field.mrz.issuingState":             {"MRZ: issuing state", "機讀區:簽發國"},
	"field.mrz.documentNumber":           {"MRZ: document number", "機讀區:證件號碼"},
	"field.mrz.nationality":              {"MRZ: nationality", "機讀區:國籍"},
	"field.mrz.birthDate":                {"MRZ: date of birth", "機讀區:出生日期"},
	"field.mrz.sex":                      {"MRZ: sex", "機讀區:性別"},
	"field.mrz.expiryDate":               {"MRZ: date of expiry", "機讀區:到期日"},
	"field.mrz.optionalData":             {"MRZ: personal number (optional data)", "機讀區:個人號碼(選填資料)"},
	"field.mrz.composite":                {"MRZ: composite check digit", "機讀區:綜合檢查碼"},

	// Why the gate refused a form, by the error's code.
	"problem.malformed":            {"The request could not be read.", "無法讀取此請求。"},
	"problem.invalid_field":        {"%s: this cannot be recorded (a date must be YYYY-MM-DD; no control characters; not too long).", "%s:無法記錄此值(日期須為 YYYY-MM-DD;不可含控制字元;不可過長)。"},
	"problem.document_expired":     {"The identity document expired before today (%s): it cannot be approved. Reject it with “The document has expired.”", "身份證明在今天(%s)之前已過期:不能批准。請以「文件已過期。」拒絕。"},
	"problem.documents_not_opened": {"Open each document you approve first: the gate records each opening, and an approval needs it. Reload the page so that the documents open, look at them, then try again.", "請先開啟您批准的每份文件:系統會記錄每次開啟,批准須以此為據。請重新載入頁面以開啟文件,查看後再試。"},
	"problem.reasons_required":     {"A rejection needs at least one reason: tick the reasons the customer will read.", "拒絕須至少選擇一個原因:請勾選客戶會看到的原因。"},
	"problem.reasons_on_approval":  {"An approval takes no reasons.", "批准不需要原因。"},
	"problem.invalid_result":       {"Choose approve or reject for both documents.", "請為兩份文件選擇批准或拒絕。"},
	"problem.unknown_reason":       {"A ticked reason is not one of the listed reasons.", "勾選的原因不在列表之中。"},
	"problem.message_too_long":     {"The message to the customer is longer than 2000 characters.", "給客戶的訊息超過 2000 字。"},
	"problem.note_too_long":        {"The internal note is longer than 4000 characters.", "內部備註超過 4000 字。"},
	"problem.extracted_required":   {"Record at least one field before pressing “Check”.", "按「檢查」前請至少記錄一項資料。"},
	"problem.document_not_valid":   {"A document was refused after it was submitted (the malware scan): it cannot be approved.", "某份文件在提交後被拒絕(惡意軟件掃描):不能批准。"},
	"problem.self_approval":        {"You requested this approval: a different admin must confirm it.", "此批准由您提出,須由另一位管理員確認。"},
	"problem.no_approval_request":  {"No approval waits for a second admin any more: the reviewer decided or recorded again.", "已沒有等待第二位管理員確認的批准:審核員已作出新決定或重新記錄。"},
	"problem.already_decided":      {"This submission is already decided.", "此提交已有決定。"},
	"problem.not_claimed":          {"Claim the submission before deciding it.", "請先認領此提交,方可作出決定。"},
	"problem.stale_version":        {"This submission changed since you opened it: reload the page and try again.", "此提交在您開啟後已被更改:請重新載入頁面後再試。"},
	"problem.admin_only":           {"Only an admin may do this.", "只有管理員可執行此操作。"},
	"problem.own_account":          {"Staff cannot act on their own customer account.", "職員不能處理自己的客戶帳戶。"},

	"customer.title":            {"Customer", "客戶"},
	"customer.documents":        {"Documents", "文件"},
	"customer.holds":            {"Orders", "訂單"},
	"customer.audit":            {"Audit trail", "審計記錄"},
	"customer.audit.ok":         {"The audit chain is intact (%d entries).", "審計鏈完整(共 %d 項)。"},
	"customer.audit.broken":     {"The audit chain is broken at entry %d: %s.", "審計鏈在第 %d 項中斷:%s。"},
	"customer.legalhold":        {"Legal hold", "法律保全"},
	"customer.legalhold.on":     {"On: nothing of this customer is purged.", "已啟用:此客戶的資料不會被刪除。"},
	"customer.legalhold.off":    {"Off.", "未啟用。"},
	"customer.legalhold.set":    {"Set legal hold", "啟用法律保全"},
	"customer.legalhold.lift":   {"Lift legal hold", "解除法律保全"},
	"customer.legalhold.reason": {"Reason (recorded in the audit trail)", "原因(會記錄於審計記錄)"},
	"audit.at":                  {"When", "時間"},
	"audit.actor":               {"Who", "執行者"},
	"audit.action":              {"What", "事項"},
	"audit.detail":              {"Details", "詳情"},

	// Who did an audited action, and what (shown with the code beside).
	"actor.customer": {"customer", "客戶"},
	"actor.reviewer": {"reviewer", "審核員"},
	"actor.admin":    {"admin", "管理員"},
	"actor.billing":  {"billing", "帳單系統"},
	"actor.system":   {"system", "系統"},

	"action.order.held":                         {"Order held for verification", "訂單等待驗證"},
	"action.order.not_required":                 {"Order needs no verification", "訂單無需驗證"},
	"action.order.provisioned":                  {"Order provisioned (customer verified)", "訂單已開通(客戶已驗證)"},
	"action.order.verified_late_intake":         {"Order reported late, customer verified since", "訂單延遲報告,客戶其後已驗證"},
	"action.hold.approved":                      {"Verification approved for the order", "訂單的驗證已批准"},
	"action.hold.rejected":                      {"Verification rejected for the order", "訂單的驗證被拒絕"},
	"action.hold.deadline":                      {"Deadline passed", "期限已過"},
	"action.hold.cancelled":                     {"Order cancelled", "訂單已取消"},
	"action.hold.service_expired":               {"Service ended", "服務已結束"},
	"action.submission.created":                 {"Documents submitted", "已提交文件"},
	"action.submission.claimed":                 {"Submission claimed", "已認領提交"},
	"action.submission.released":                {"Submission released", "已釋放提交"},
	"action.submission.recorded":                {"Document details recorded", "已記錄文件資料"},
	"action.submission.decided":                 {"Submission decided", "已作出審核決定"},
	"action.submission.approval_requested":      {"Second admin asked to approve", "已要求第二位管理員批准"},
	"action.submission.approval_declined":       {"Second approval declined", "第二位管理員已退回"},
	"action.customer.verified":                  {"Customer verified", "客戶已通過驗證"},
	"action.customer.rejected":                  {"Customer's documents rejected", "客戶的文件被拒絕"},
	"action.customer.expiring":                  {"Verification expiring soon", "驗證即將到期"},
	"action.customer.expired":                   {"Verification expired", "驗證已到期"},
	"action.customer.legal_hold_set":            {"Legal hold set", "已啟用法律保全"},
	"action.customer.legal_hold_lift_requested": {"Lifting the legal hold requested", "已申請解除法律保全"},
	"action.customer.legal_hold_lift_cancelled": {"Request to lift the legal hold cancelled", "已取消解除法律保全的申請"},
	"action.customer.legal_hold_lifted":         {"Legal hold lifted", "已解除法律保全"},
	"action.disclosure.requested":               {"Disclosure requested", "已申請披露"},
	"action.disclosure.approved":                {"Disclosure approved", "已批准披露"},
	"action.disclosure.exported":                {"Disclosure exported", "已匯出披露資料"},
	"action.document.opened":                    {"Document opened", "已開啟文件"},
	"action.document.purged":                    {"Document deleted (retention)", "文件已刪除(保留期屆滿)"},
	"action.document.malware":                   {"Malware found in an upload", "上傳的文件發現惡意軟件"},
	"action.personal_data.opened":               {"Personal data opened", "已開啟個人資料"},
	"action.staff.module_create":                {"Service created by hand in WHMCS", "職員在 WHMCS 手動開通服務"},
	"action.staff.module_unsuspend":             {"Service unsuspended by hand in WHMCS", "職員在 WHMCS 手動解除暫停"},
	"action.staff.override":                     {"Provisioning override in WHMCS", "職員在 WHMCS 覆寫開通"},

	"order.title":     {"Order", "訂單"},
	"order.orderedAt": {"Ordered", "訂購時間"},
	"order.nextDue":   {"Next due date (billing)", "下次付款日(帳單系統)"},
	"order.rendered":  {"Counts as rendered", "視作已提供服務"},
	"order.extension": {"Extension", "延長"},
	"order.history":   {"History", "歷史"},
	"order.commands":  {"Billing commands sent", "已發送的帳單指令"},

	"disc.title":               {"Disclosures to authorities", "向當局披露資料"},
	"disc.request":             {"Record a request", "記錄請求"},
	"disc.customer":            {"Customer id", "客戶編號"},
	"disc.authority":           {"Authority", "當局"},
	"disc.jurisdiction":        {"Jurisdiction (a region of the customer's servers)", "司法管轄區(客戶伺服器所在地區)"},
	"disc.legalRef":            {"Legal reference", "法律依據"},
	"disc.scope":               {"Scope", "範圍"},
	"disc.scope.documents":     {"Documents", "文件"},
	"disc.scope.personal_data": {"Personal data", "個人資料"},
	"disc.send":                {"Record the request", "記錄請求"},
	"disc.find":                {"Open a disclosure by id", "按編號開啟披露"},
	"disc.state":               {"State", "狀態"},
	"disc.pending_approval":    {"Waiting for a second admin", "等待第二位管理員批准"},
	"disc.approved":            {"Approved", "已批准"},
	"disc.requestedBy":         {"Requested by", "請求者"},
	"disc.approvedBy":          {"Approved by", "批准者"},
	"disc.exportUntil":         {"Export possible until", "可匯出至"},
	"disc.approve":             {"Approve (second admin)", "批准(第二位管理員)"},
	"disc.export":              {"Export", "匯出"},
	"disc.exported":            {"Export (links valid one hour; this view is audited)", "匯出內容(連結有效一小時;此檢視已記錄)"},
	"disc.contact":             {"Contact", "聯絡方式"},
	"disc.reauth":              {"Disclosures need a recent sign-in.", "資料披露需要近期重新登入。"},
	"disc.download":            {"Download", "下載"},
}
