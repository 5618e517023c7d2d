package credential

import (
	"bytes"
	"crypto/subtle"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings every authenticator app reads from the enrolment URL:
// 6 digits, a 30-second step, HMAC-SHA1 (RFC 6238's defaults), and one step
// of clock skew either way at login.
const (
	totpPeriod = 30
	totpSkew   = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: totpSkew, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrolment is a new TOTP secret as an authenticator app takes it: the
// otpauth URL and the same URL as a QR code (PNG). Secret is base32.
type Enrolment struct {
	Secret string
	URL    string
	QRCode []byte
}

// NewTOTP makes a fresh secret for account (the username) shown under
// issuer (the deployment's name) in the app.
func NewTOTP(issuer, account string) (Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrolment{}, err
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return Enrolment{}, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL(), QRCode: b.Bytes()}, nil
}

// TOTPStep is the number of the 30-second step that holds t.
func TOTPStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// CheckTOTP reports the step of the code that matches secret at now, within
// one step either way, and true; or false. A step at or before lastStep (the
// step of the last code this account used) is refused, so a code cannot be
// used twice, even within its 30 seconds.
func CheckTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	match, found := int64(0), false
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := TOTPStep(now) + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > lastStep && !found {
			match, found = step, true
		}
	}
	return match, found
}
