package v3

import (
	"fmt"
	"strings"
)

// Interaction ids of the Medication Management interactions (Spine MIM 4.2.00),
// in the UK family that legacy systems send. The SM family carries the same
// payloads under ids with "SM" in place of "UK"; see Family and InFamily.
const (
	ParentPrescription          = "PORX_IN020101UK31"
	ParentPrescriptionNonUrgent = "PORX_IN020102UK31"
	PatientReleaseRequest       = "PORX_IN132004UK30"
	NominatedReleaseRequest     = "PORX_IN060102UK30"
	NominatedReleaseResponse    = "PORX_IN070101UK31"
	PatientReleaseResponse      = "PORX_IN070103UK31"
	ReleaseRejection            = "PORX_IN110101UK30"
	DispenseProposalReturn      = "PORX_IN100101UK31"
	CancelRequest               = "PORX_IN030101UK32"
	CancelResponse              = "PORX_IN050101UK31"
	SubsequentCancelResponse    = "PORX_IN050102UK32"
	DispenseNotification        = "PORX_IN080101UK31"
	DispenseClaimInformation    = "PORX_IN090101UK31"
	DispenseReimbursementClaim  = "PORX_IN370101UK31"
	DispenseNoClaimNotification = "PORX_IN460101UK31"
	DispenserWithdraw           = "PORX_IN510101UK31"
	RebuildDispenseHistory      = "PORX_IN540101UK31"
	ApplicationAcknowledgement  = "MCCI_IN010000UK13"
)

// Family names the variant of an interaction id: "UK" as legacy systems send,
// or "SM" as the EPS API's own examples carry.
type Family string

// The two interaction id families.
const (
	FamilyUK Family = "UK"
	FamilySM Family = "SM"
)

// Canonical returns the UK-family form of an interaction id and the family the
// given id belongs to. It fails on an id that is not a PORX or MCCI
// interaction id of the shape XXXX_INnnnnnnFFnn.
func Canonical(id string) (string, Family, error) {
	const prefixLen = len("PORX_IN000000")
	if len(id) != len("PORX_IN000000UK00") || !strings.Contains(id[:prefixLen], "_IN") {
		return "", "", fmt.Errorf("interaction id %q: not of the form PORX_INnnnnnnUKnn", id)
	}
	fam := Family(id[prefixLen : prefixLen+2])
	switch fam {
	case FamilyUK, FamilySM:
	default:
		return "", "", fmt.Errorf("interaction id %q: unknown family %q (want UK or SM)", id, fam)
	}
	return id[:prefixLen] + string(FamilyUK) + id[prefixLen+2:], fam, nil
}

// InFamily returns the interaction id (given in either family) in family f.
// An id of an unexpected shape is returned unchanged.
func InFamily(id string, f Family) string {
	const prefixLen = len("PORX_IN000000")
	if len(id) != len("PORX_IN000000UK00") || f == "" {
		return id
	}
	return id[:prefixLen] + string(f) + id[prefixLen+2:]
}
