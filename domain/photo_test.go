package domain_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/google/uuid"

	"waystation/domain"
)

func testImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		img.Set(x, x%30, color.RGBA{200, 10, 10, 255})
	}
	return img
}

// TestPhotoJPEG returns a JPEG with an EXIF segment holding a GPS position.
func testJPEGWithGPS(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(), nil); err != nil {
		tb.Fatal(err)
	}
	exif := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"), []byte("GPSLatitude 39.9042N GPSLongitude 116.4074E")...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(exif)+2))
	b := buf.Bytes()
	return append(append(append([]byte{}, b[:2]...), append(seg, exif...)...), b[2:]...)
}

// testPNGWithScript returns a PNG with a text chunk and a trailer holding a script.
func testPNGWithScript(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage()); err != nil {
		tb.Fatal(err)
	}
	b := buf.Bytes()
	text := []byte("Comment\x00<script>alert(1)</script>")
	chunk := make([]byte, 8, 12+len(text))
	binary.BigEndian.PutUint32(chunk, uint32(len(text)))
	copy(chunk[4:], "tEXt")
	chunk = append(chunk, text...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := append(append(append([]byte{}, b[:33]...), chunk...), b[33:]...) // after the signature and IHDR
	return append(out, []byte("<script>alert(2)</script>")...)
}

func TestCleanPhoto(t *testing.T) {
	t.Run("a JPEG loses its EXIF and GPS position", func(t *testing.T) {
		out, ctype, w, h, err := domain.CleanPhoto(testJPEGWithGPS(t))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "image/jpeg" || w != 40 || h != 30 {
			t.Errorf("got %s %dx%d", ctype, w, h)
		}
		if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("GPS")) {
			t.Error("the EXIF segment survived")
		}
		if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
			t.Errorf("the output is not a JPEG: %v", err)
		}
	})
	t.Run("a PNG with a script inside loses it", func(t *testing.T) {
		in := testPNGWithScript(t)
		if _, err := png.Decode(bytes.NewReader(in)); err != nil {
			t.Fatalf("the test PNG does not decode: %v", err)
		}
		out, ctype, _, _, err := domain.CleanPhoto(in)
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "image/png" || bytes.Contains(out, []byte("script")) || bytes.Contains(out, []byte("tEXt")) {
			t.Errorf("got %s, script kept: %v", ctype, bytes.Contains(out, []byte("script")))
		}
	})
	refused := map[string][]byte{
		"a 20 MB file":               append(testJPEGWithGPS(t), make([]byte, 20<<20)...),
		"a script named as an image": []byte("<svg onload=alert(1)>"),
		"a GIF":                      []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"a truncated JPEG":           testJPEGWithGPS(t)[:200],
		"a PNG declaring 100000x100000 pixels": func() []byte {
			b := bytes.Clone(testPNGWithScript(t)[:33])
			binary.BigEndian.PutUint32(b[16:], 100000)
			binary.BigEndian.PutUint32(b[20:], 100000)
			binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
			return b
		}(),
		"nothing": nil,
	}
	for name, b := range refused {
		t.Run(name+" is refused", func(t *testing.T) {
			if _, _, _, _, err := domain.CleanPhoto(b); domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("got %v; want invalid", err)
			}
		})
	}
}

// TestPhotosAndLeadsThroughTheService: a photo attached is stored and read
// back cleaned; a lead is taken only on a public notice, with a receipt.
func TestPhotosAndLeadsThroughTheService(t *testing.T) {
	f := newFixture(t)
	r, err := f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: lostMan}, domain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.MustParse(r.ID)
	staff2 := domain.Actor{ID: "staff-2", Role: domain.RoleStaff, Station: "S02"}
	if _, err := f.svc.AttachPhoto(f.ctx, staff2, id, testJPEGWithGPS(t)); domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("another station's staff attached a photo: %v", err)
	}
	p, err := f.svc.AttachPhoto(f.ctx, staff1, id, testJPEGWithGPS(t))
	if err != nil {
		t.Fatal(err)
	}
	img, ctype, err := f.svc.Photo(f.ctx, id, p.PhotoID)
	if err != nil || ctype != "image/jpeg" || bytes.Contains(img, []byte("GPS")) || len(img) != p.Bytes {
		t.Fatalf("photo read back: %s, %d bytes, %v", ctype, len(img), err)
	}
	if _, _, err := f.svc.Photo(f.ctx, id, uuid.New()); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("an unknown photo: %v", err)
	}
	lead := domain.LeadInput{Name: "王芳", Phone: "138 0000 0000", Relationship: "女儿", Message: "像是我父亲"}
	if _, err := f.svc.ReceiveLead(f.ctx, id, uuid.New(), lead); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("a lead on no notice: %v", err)
	}
	if _, err := f.svc.Execute(f.ctx, staff1, id, &domain.PublishNotice{
		Shows: []domain.NoticeField{domain.NoticeSex, domain.NoticePhoto}, PhotoID: p.PhotoID}, domain.Options{}); err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Case(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := c.PublicNotice()
	if !ok || n.PhotoID != p.PhotoID {
		t.Fatalf("public notice %+v %v", n, ok)
	}
	got, err := f.svc.ReceiveLead(f.ctx, id, n.NoticeID, lead)
	if err != nil || got.Receipt == "" {
		t.Fatalf("lead: %+v, %v", got, err)
	}
	for _, bad := range []domain.LeadInput{
		{Name: "a", Phone: "<script>", Message: "m"},
		{Name: "a", Phone: "12345", Message: ""},
		{Name: "", Phone: "12345", Message: "m"},
		{Name: "a", Phone: "12345", Message: string(bytes.Repeat([]byte("x"), 2001))},
		{Name: "a\u202e", Phone: "12345", Message: "m"},
	} {
		if _, err := f.svc.ReceiveLead(f.ctx, id, n.NoticeID, bad); domain.ErrorCode(err) != domain.CodeInvalid {
			t.Errorf("lead %+v: %v; want invalid", bad, err)
		}
	}
	c, _ = f.svc.Case(f.ctx, id)
	if ls := c.Leads(); len(ls) != 1 || ls[0].Receipt != got.Receipt || ls[0].Name != "王芳" {
		t.Fatalf("leads %+v", ls)
	}
	if _, err := f.svc.Execute(f.ctx, staff1, id, &domain.WithdrawNotice{}, domain.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReceiveLead(f.ctx, id, n.NoticeID, lead); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("a lead on a withdrawn notice: %v", err)
	}
}
