package state

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Sealer encrypts the pending password updates before they reach the Store,
// so a password is never written in clear. Implementations must be safe for
// concurrent use.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// AESSealer seals with AES-256-GCM under a key the caller keeps (in a secret
// store, a TPM, ...). It is safe for concurrent use.
type AESSealer struct{ aead cipher.AEAD }

// NewAESSealer returns a sealer for a 32-byte key.
func NewAESSealer(key []byte) (*AESSealer, error) {
	if len(key) != 32 {
		return nil, backend.Invalid("state: new sealer", "", "sealer-key", "the key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, backend.Wrap(err, backend.InvalidArgument, "state: new sealer", "")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, backend.Wrap(err, backend.InvalidArgument, "state: new sealer", "")
	}
	return &AESSealer{aead: aead}, nil
}

// NewEphemeralSealer returns an AESSealer under a random key that lives only
// in this process: sealed values cannot be opened after a restart.
func NewEphemeralSealer() *AESSealer {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, _ := NewAESSealer(key)
	return s
}

// Seal implements Sealer: nonce || ciphertext.
func (s *AESSealer) Seal(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, backend.Wrap(err, backend.Unavailable, "state: seal", "")
	}
	return s.aead.Seal(nonce, nonce, plaintext, nil), nil
}

// Open implements Sealer.
func (s *AESSealer) Open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, backend.Invalid("state: open sealed value", "", "sealed-value", "the value is too short")
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, backend.Wrap(err, backend.FailedPrecondition, "state: open sealed value", "")
	}
	return out, nil
}
