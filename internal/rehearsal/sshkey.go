package rehearsal

import (
	"crypto/ed25519"
	"encoding/pem"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// KeyPair is an ephemeral SSH key pair made for one run: EC2 imports the
// public key (the program's publicKey config), the private key stays in the
// run directory for debugging the nodes over SSH.
type KeyPair struct {
	// AuthorizedKey is the public key as one OpenSSH line, "ssh-ed25519 AAAA... comment".
	AuthorizedKey string
	// PrivatePEM is the private key in OpenSSH's PEM format (what ssh-keygen writes).
	PrivatePEM []byte
}

// NewKeyPair makes an ed25519 key pair from rnd, commented with comment
// (EC2 imports ssh-ed25519 keys: ImportKeyPair API reference).
func NewKeyPair(rnd io.Reader, comment string) (KeyPair, error) {
	pub, priv, err := ed25519.GenerateKey(rnd)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generating the run's ed25519 SSH key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return KeyPair{}, fmt.Errorf("encoding the run's SSH public key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return KeyPair{}, fmt.Errorf("encoding the run's SSH private key: %w", err)
	}
	line := string(ssh.MarshalAuthorizedKey(sshPub)) // ends with "\n"
	return KeyPair{
		AuthorizedKey: line[:len(line)-1] + " " + comment,
		PrivatePEM:    pem.EncodeToMemory(block),
	}, nil
}
