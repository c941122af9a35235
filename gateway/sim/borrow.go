package sim

import "strings"

// A request is decoded with its strings borrowed from its body
// (decodeMessage, decodeRequest: fhir.DecodeResourceBorrowed) rather than
// each copied:
// the body is the handler's own buffer (readBody), never changed nor
// reused, and most of what is decoded — names, addresses, codings — is only
// looked at by the checks and dropped with the message. What the State
// keeps is made its own first (owned): a string borrowed from the body
// would keep the whole body alive for as long as the State keeps the
// string, past the prescription itself (the ids of forgotten
// prescriptions, state_evict.go) or for a message whose body is not kept
// at all (a cancellation, a dispense notification). The prescription-order
// itself is kept as received (NewPrescription.Order is the body), as
// before. TestStateOwnsItsStrings holds the State free of borrowed strings.

// owned returns np with every string the State keeps copied out of the
// request body; Order stays the body, kept as received.
func (np NewPrescription) owned() NewPrescription {
	np.MessageID = strings.Clone(np.MessageID)
	np.ShortFormID = strings.Clone(np.ShortFormID)
	np.LongFormID = strings.Clone(np.LongFormID)
	np.NHSNumber = strings.Clone(np.NHSNumber)
	np.Prescriber = strings.Clone(np.Prescriber)
	np.Nominated = strings.Clone(np.Nominated)
	np.ItemIDs = clonedStrings(np.ItemIDs)
	np.OrderID = strings.Clone(np.OrderID)
	np.TaskID = strings.Clone(np.TaskID)
	np.CourseOfTherapy = strings.Clone(np.CourseOfTherapy)
	np.PrescriberName = strings.Clone(np.PrescriberName)
	return np
}

// owned returns req with its strings copied out of the request body.
func (req CancelRequest) owned() CancelRequest {
	req.MessageID = strings.Clone(req.MessageID)
	req.ShortFormID = strings.Clone(req.ShortFormID)
	req.NHSNumber = strings.Clone(req.NHSNumber)
	req.Requester = strings.Clone(req.Requester)
	req.ItemIDs = clonedStrings(req.ItemIDs)
	return req
}

// owned returns req with its strings copied out of the request body.
func (req DispenseRequest) owned() DispenseRequest {
	req.MessageID = strings.Clone(req.MessageID)
	req.Dispenser = strings.Clone(req.Dispenser)
	req.ShortFormID = strings.Clone(req.ShortFormID)
	req.ReplacementOf = strings.Clone(req.ReplacementOf)
	if req.Items != nil {
		items := make(map[string]ItemStatus, len(req.Items))
		for id, st := range req.Items {
			items[strings.Clone(id)] = ItemStatus(strings.Clone(string(st)))
		}
		req.Items = items
	}
	return req
}

// owned returns req with its strings copied out of the request body.
func (req ReleaseRequest) owned() ReleaseRequest {
	req.Owner = strings.Clone(req.Owner)
	req.ShortFormID = strings.Clone(req.ShortFormID)
	req.Agent = DispensingAgent{
		OrgName:     strings.Clone(req.Agent.OrgName),
		RoleProfile: strings.Clone(req.Agent.RoleProfile),
		PersonCode:  strings.Clone(req.Agent.PersonCode),
		PersonName:  strings.Clone(req.Agent.PersonName),
		Telecom:     strings.Clone(req.Agent.Telecom),
	}
	return req
}

// owned returns req with its strings copied out of the request body.
func (req ReturnRequest) owned() ReturnRequest {
	req.MessageID = strings.Clone(req.MessageID)
	req.ShortFormID = strings.Clone(req.ShortFormID)
	req.Dispenser = strings.Clone(req.Dispenser)
	req.Reason = strings.Clone(req.Reason)
	return req
}

// owned returns req with its strings copied out of the request body.
func (req WithdrawRequest) owned() WithdrawRequest {
	req.MessageID = strings.Clone(req.MessageID)
	req.ShortFormID = strings.Clone(req.ShortFormID)
	req.Dispenser = strings.Clone(req.Dispenser)
	req.DispenseID = strings.Clone(req.DispenseID)
	req.Reason = strings.Clone(req.Reason)
	return req
}

// owned returns req with its strings copied out of the request body.
func (req ClaimRequest) owned() ClaimRequest {
	req.ShortFormID = strings.Clone(req.ShortFormID)
	req.ClaimID = strings.Clone(req.ClaimID)
	req.Claimant = strings.Clone(req.Claimant)
	req.ReplacementOf = strings.Clone(req.ReplacementOf)
	return req
}

// clonedStrings returns a copy of ss whose strings are copies too (nil
// for nil).
func clonedStrings(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.Clone(s)
	}
	return out
}
