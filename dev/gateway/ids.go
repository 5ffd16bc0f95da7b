package gateway

import (
	"crypto/rand"
	"encoding/hex"
)

// newID returns 32 random lower-case hex digits, the form of OpenWhisk's
// activation ids and of the transaction id ("code") of its error replies.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it aborts the program instead
	return hex.EncodeToString(b)
}
