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
//
// SealWith and OpenWith bind a sealed value to additional data (for an
// AEAD, its associated data): the value opens only with the same
// additional data, so a sealed value copied to another entry (another user,
// an older version) is refused. Seal and Open are SealWith and OpenWith
// with no additional data.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
	SealWith(plaintext, additionalData []byte) ([]byte, error)
	OpenWith(sealed, additionalData []byte) ([]byte, error)
}

// ReasonSealedValue (FailedPrecondition) names a sealed value that cannot
// be opened: a wrong key, a corrupt or truncated value, or additional data
// that does not match (a value replayed or moved from another entry).
const ReasonSealedValue backend.Reason = "sealed-value"

// ReasonSealerKey (InvalidArgument) names a key of the wrong size.
const ReasonSealerKey backend.Reason = "sealer-key"

// AESSealer seals with AES-256-GCM under a key the caller keeps (in a secret
// store, a TPM, ...). It is safe for concurrent use.
type AESSealer struct{ aead cipher.AEAD }

// NewAESSealer returns a sealer for a 32-byte key.
func NewAESSealer(key []byte) (*AESSealer, error) {
	if len(key) != 32 {
		return nil, backend.Invalid("state: new sealer", "", ReasonSealerKey, "the key must be 32 bytes, got %d: generate one with crypto/rand and keep it in a secret store", len(key))
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
func (s *AESSealer) Seal(plaintext []byte) ([]byte, error) { return s.SealWith(plaintext, nil) }

// Open implements Sealer.
func (s *AESSealer) Open(sealed []byte) ([]byte, error) { return s.OpenWith(sealed, nil) }

// SealWith implements Sealer: nonce || ciphertext, with additionalData as
// AES-GCM's associated data (authenticated, not stored).
func (s *AESSealer) SealWith(plaintext, additionalData []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, backend.Wrap(err, backend.Unavailable, "state: seal", "")
	}
	return s.aead.Seal(nonce, nonce, plaintext, additionalData), nil
}

// OpenWith implements Sealer. A wrong key, a damaged value or other
// additional data give a FailedPrecondition error (ReasonSealedValue).
func (s *AESSealer) OpenWith(sealed, additionalData []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: "state: open sealed value", Reason: ReasonSealedValue,
			Msg: "the sealed value is truncated"}
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], additionalData)
	if err != nil {
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: "state: open sealed value", Reason: ReasonSealedValue, Err: err,
			Msg: "the sealed value cannot be opened: wrong key, damaged value, or a value moved from another entry"}
	}
	return out, nil
}

// ReasonSealerRequired (InvalidArgument): a durable Store was given
// without a Sealer.
const ReasonSealerRequired backend.Reason = "sealer-required"

// Defaults returns store and sealer with the SDK's defaults, as every
// service that keeps state applies them: no store is a MemoryStore, and no
// sealer is an ephemeral one, which only a MemoryStore may have (a value
// sealed under a key that dies with the process must not outlive it). A
// durable store without a sealer is InvalidArgument
// ([ReasonSealerRequired]), so that no secret is ever stored in clear.
func Defaults(store Store, sealer Sealer) (Store, Sealer, error) {
	if store == nil {
		store = NewMemoryStore()
	}
	if sealer == nil {
		if _, mem := store.(*MemoryStore); !mem {
			return nil, nil, backend.Invalid("state: defaults", "", ReasonSealerRequired,
				"a durable store needs a Sealer (state.NewAESSealer with a key you keep) so secrets are never stored in clear")
		}
		sealer = NewEphemeralSealer()
	}
	return store, sealer, nil
}
