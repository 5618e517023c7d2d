package domain

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
)

// MaxPhotoBytes is the largest photo upload taken, and MaxPhotoPixels the
// most pixels its image may have (a small file can declare a huge image).
const (
	MaxPhotoBytes  = 2 << 20
	MaxPhotoPixels = 24_000_000
)

// CleanPhoto checks an uploaded photo by decoding it with the standard
// library (JPEG or PNG only, at most MaxPhotoBytes and MaxPhotoPixels) and
// returns it encoded again, as JPEG for a JPEG and PNG for a PNG, with its
// content type and size. Encoding again keeps only the pixels: EXIF (and
// the GPS position in it), comments, text chunks and anything appended to
// the file are left behind. A file that is not such an image is invalid,
// naming field "photo".
func CleanPhoto(b []byte) (out []byte, contentType string, width, height int, err error) {
	if len(b) > MaxPhotoBytes {
		return nil, "", 0, 0, Invalid("photo", "a photo is at most 2 MB")
	}
	var decode func([]byte) (image.Image, error)
	cfg, format, err := decodeConfig(b)
	if err != nil {
		return nil, "", 0, 0, Invalid("photo", "the photo is not a JPEG or PNG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxPhotoPixels {
		return nil, "", 0, 0, Invalid("photo", "the photo has too many pixels")
	}
	switch format {
	case "jpeg":
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	default:
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	}
	img, err := decode(b)
	if err != nil {
		return nil, "", 0, 0, Invalid("photo", "the photo is not a JPEG or PNG image")
	}
	var buf bytes.Buffer
	if format == "jpeg" {
		err, contentType = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 88}), "image/jpeg"
	} else {
		err, contentType = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img), "image/png"
	}
	if err != nil {
		return nil, "", 0, 0, Internal(err, "the photo could not be encoded")
	}
	bounds := img.Bounds()
	return buf.Bytes(), contentType, bounds.Dx(), bounds.Dy(), nil
}

// decodeConfig reads the header of a JPEG or PNG image, by its signature.
func decodeConfig(b []byte) (image.Config, string, error) {
	switch {
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		return cfg, "jpeg", err
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		return cfg, "png", err
	}
	return image.Config{}, "", image.ErrFormat
}
