package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/ebxml"
)

// partyKeys are the party keys an ebXML message may be addressed to
// (Config.PartyKeys), as configured; nil: any.
type partyKeys []string

// parsePartyKeys reads --party-keys: party keys separated by commas,
// white space around each ignored. Empty gives nil (eb:To not checked);
// an empty entry or one holding white space is an error.
func parsePartyKeys(s string) (partyKeys, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var keys partyKeys
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			return nil, errors.New("an empty party key")
		case strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' }):
			return nil, fmt.Errorf("party key %q holds white space or a control character", k)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// addressedTo reports whether a message whose eb:To/eb:PartyId is to may
// be taken: any when no keys are set, else one of them in any letter
// case (a sender's MHS may write its configured key in lower case).
func (k partyKeys) addressedTo(to string) bool {
	if k == nil {
		return true
	}
	to = strings.TrimSpace(to)
	for _, key := range k {
		if strings.EqualFold(key, to) {
			return true
		}
	}
	return false
}

// notAddressedToUs is the refusal of a message addressed to another
// party: ValueNotRecognized, Spine's 501314 with the TMS Error Base's
// words, exactly as the NHS MHS adaptor answers a message not for its
// party key (its component tests assert the description).
func notAddressedToUs() *ebxml.MessageError {
	return ebxml.NewMessageError(ebxml.CodeValueNotRecognized, ebxml.NumInvalidToParty, "Invalid To Party Type attribute")
}
