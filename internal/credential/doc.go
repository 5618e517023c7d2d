// Package credential holds what proves a person is who they say: password
// hashes (Argon2id), the common-password check, one-time codes (TOTP,
// RFC 6238), recovery codes, session secrets and the login throttle.
package credential
