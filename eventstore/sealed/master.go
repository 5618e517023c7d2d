package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ParseMasterKey reads a 32-byte master key written as base64 (standard or
// URL alphabet, padded or not) or as 64 hex digits. Its errors never repeat
// the input.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: give 32 bytes as base64 or 64 hex digits", ErrMasterKey)
}

// LoadMasterKey returns the master key: from value when it is not empty
// (WAYSTATION_MASTER_KEY), else from the file at path when path is not
// empty (--master-key-file), else from MasterKeyFile in dataDir, which is
// generated (mode 0600) on first use; generated is true then, and the
// caller must warn the operator that the key sits next to the data it
// protects.
func LoadMasterKey(value, path, dataDir string) (key []byte, generated bool, err error) {
	if value != "" {
		k, err := ParseMasterKey(value)
		return k, false, err
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, false, fmt.Errorf("sealed: reading the master key file: %w", err)
		}
		k, err := ParseMasterKey(string(b))
		return k, false, err
	}
	local := filepath.Join(dataDir, MasterKeyFile)
	b, err := os.ReadFile(local)
	if err == nil {
		k, err := ParseMasterKey(string(b))
		return k, false, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("sealed: reading the master key file: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, err
	}
	if err := writeSynced(local, []byte(base64.StdEncoding.EncodeToString(k)+"\n")); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// wrapWith seals plain under master, bound to label, and returns it as
// base64 (nonce then sealed bytes).
func wrapWith(master cipher.AEAD, plain []byte, label string) ([]byte, error) {
	nonce := make([]byte, master.NonceSize(), master.NonceSize()+len(plain)+master.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := master.Seal(nonce, nonce, plain, []byte(label))
	out := make([]byte, base64.RawStdEncoding.EncodedLen(len(sealed)))
	base64.RawStdEncoding.Encode(out, sealed)
	return out, nil
}

// unwrapWith opens what wrapWith returned; any failure is ErrMasterKey.
func unwrapWith(master cipher.AEAD, enc []byte, label string) ([]byte, error) {
	raw := make([]byte, base64.RawStdEncoding.DecodedLen(len(enc)))
	n, err := base64.RawStdEncoding.Decode(raw, enc)
	if err != nil || n < master.NonceSize() {
		return nil, ErrMasterKey
	}
	ns := master.NonceSize()
	plain, err := master.Open(nil, raw[:ns], raw[ns:n], []byte(label))
	if err != nil {
		return nil, ErrMasterKey
	}
	return plain, nil
}
