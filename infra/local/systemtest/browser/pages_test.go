package browser

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// viewports of the screenshots: a desktop and a phone.
var viewports = []struct {
	name          string
	width, height int64
	phone         bool
}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}}

// axeSource is axe-core, vendored (testdata/axe-core, see its README).
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// shoot opens a page in both languages at both widths, checks it with
// axe-core (no serious or critical violation), and writes its screenshots
// to docs/screenshots/<name>-<lang>-<viewport>.png. ready, when set, is a
// script that is true once the page has finished drawing (documents
// decoded), and settle a pause after it (the PDF viewer paints a moment
// after it has the document). The page's language is English again
// afterwards.
func (p *person) shoot(g *gate, name, path, ready string, settle ...time.Duration) {
	p.t.Helper()
	dir := filepath.Join(g.root, "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	axe := axeSource(p.t)
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for _, lang := range []string{"en", "zh-Hant"} {
		for _, vp := range viewports {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if vp.phone {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateOrientation(emulation.ScreenOrientationTypePortraitPrimary, 0))
			}
			p.do(name+" "+lang+" "+vp.name, chromedp.EmulateViewport(vp.width, vp.height, opts...),
				chromedp.Navigate(g.url+path+sep+"lang="+lang), chromedp.WaitReady("body"))
			if ready != "" {
				p.waitFor(name+" drawn", ready)
			}
			for _, d := range settle {
				p.do("settle", chromedp.Sleep(d))
			}
			if got := eval[string](p, `document.documentElement.lang`); got != lang {
				p.t.Fatalf("%s: lang=%q, want %q", name, got, lang)
			}
			if vp.name == "desktop" || lang == "en" {
				p.axe(axe, name+" "+lang+" "+vp.name)
			}
			ctx, cancel := contextFor(p, 60*time.Second)
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			cancel()
			if err != nil {
				p.t.Fatalf("screenshot %s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+"-"+lang+"-"+vp.name+".png"), png, 0o644); err != nil {
				p.t.Fatal(err)
			}
		}
	}
	p.do("back to English at desktop width", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(g.url+path+sep+"lang=en"), chromedp.WaitReady("body"))
	if ready != "" {
		p.waitFor(name+" drawn", ready)
	}
}

// axe runs axe-core on the page and fails on a serious or critical
// violation.
func (p *person) axe(source, what string) {
	p.t.Helper()
	if !eval[bool](p, `typeof axe !== "undefined"`) {
		eval[chromedp.Void](p, source)
	}
	found := eval[[]string](p, `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
		return r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; })
			.map(function (v) { return v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.map(function (n) { return n.target.join(" "); }).join(", "); });
	})`)
	for _, v := range found {
		p.t.Errorf("axe, %s: %s", what, v)
	}
}

// upload uploads a file through the page's form, as a person does: the
// category and type chosen, the file picked (or a photo taken), the button
// pressed; it waits for the validator's verdict and the page's reload, and
// returns how many bytes were sent and how many progress events the bar
// showed.
func (p *person) upload(category, typ, file, input string) (sent int, progress int) {
	p.t.Helper()
	if r := p.send(category, typ, file, input); r != "valid" {
		p.t.Fatalf("%s: %s was refused: %s", p.name, filepath.Base(file), p.text())
	}
	if eval[bool](p, `document.getElementById("progress").hidden`) {
		p.t.Fatal("the progress bar was not shown")
	}
	sent, _ = strconv.Atoi(eval[string](p, `document.getElementById("upload").getAttribute("data-bytes") || "0"`))
	progress, _ = strconv.Atoi(eval[string](p, `document.getElementById("upload").getAttribute("data-progress-events") || "0"`))
	p.waitFor("the page to reload", `document.readyState === "complete" && !!document.getElementById("upload") && !document.getElementById("upload").hasAttribute("data-result")`)
	return sent, progress
}

// send picks a category, a type and a file in the page's upload form,
// presses the button, and returns the validator's verdict ("valid" or
// "invalid") once the page has it.
func (p *person) send(category, typ, file, input string) string {
	p.t.Helper()
	eval[chromedp.Void](p, `(function () {
		var c = document.getElementById("category"); c.value = `+strconv.Quote(category)+`; c.dispatchEvent(new Event("change"));
		var t = document.getElementById("type"); t.value = `+strconv.Quote(typ)+`; t.dispatchEvent(new Event("change"));
	})()`)
	p.do("pick "+filepath.Base(file), chromedp.SetUploadFiles(input, []string{file}), chromedp.Click("#send"))
	p.waitFor("the validator's verdict on "+filepath.Base(file), `document.getElementById("upload").hasAttribute("data-result")`)
	return eval[string](p, `document.getElementById("upload").getAttribute("data-result")`)
}

// uploadRefused uploads a file the gate refuses, as a person does, and
// returns what the page says about it.
func (p *person) uploadRefused(category, typ, file, input string) string {
	p.t.Helper()
	if r := p.send(category, typ, file, input); r != "invalid" {
		p.t.Fatalf("%s: %s was not refused (%s): %s", p.name, filepath.Base(file), r, p.text())
	}
	return eval[string](p, `document.getElementById("upload-status").textContent`)
}

// bigPhoto writes a phone-sized photo of about 8 MB (4000×3000, fine
// noise over gradients, JPEG quality 95).
func bigPhoto(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < 3000; y++ {
		for x := 0; x < 4000; x++ {
			n := uint8(rng.IntN(64))
			img.Set(x, y, color.RGBA{uint8(x/16) + n, uint8(y/12) + n, 120 + n, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "IMG_0001.jpg")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
