package cancel

import (
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// CancelRefusal makes the Cancel Response (PORX_IN050101UK31, in the
// request's family) for a Cancel Request that porxgate could not map, or
// that the EPS FHIR API cannot take, so that EPS was never asked: Spine
// answers a cancellation it cannot process with a Cancel Response, AE,
// whose …17.19 code says why (its validation failures are 5000 "Unable to
// process message. Information missing or invalid - <what>", as the EPS
// API's R-5000 example carries one), not with a transport error. The code
// is the cancel family's for oo (core.V3ErrorFromOutcome with HTTP 400:
// porxgate's own refusal, an INVALID_VALUE issue whose diagnostics name
// the element path and the problem, is that 5000). The response repeats
// what of the request can be read, without checking the rest: its patient,
// author, responsible party (the author's when it names none), prescription
// id, line item (none for a cancellation of the whole prescription, which
// the request then names none of either) and CancellationRequest id; a
// request without one of the others cannot be answered so, and is an
// error. Ids and times come from env as for CancelResponseFromEPS.
func CancelRefusal(request []byte, oo *fhir.OperationOutcome, ends CancelReplyEnds, env core.Env) ([]byte, error) {
	nodes, err := readCancelRequestNodesLeniently(request)
	if err != nil {
		return nil, err
	}
	ve, err := core.V3ErrorFromOutcome(oo, 400, core.ErrorFamilyCancel)
	if err != nil {
		return nil, fmt.Errorf("refusal of cancel request %s: %w", nodes.info.CancellationID, err)
	}
	reasons := ve.Reasons()
	if len(reasons) == 0 || reasons[0].System != v3.OIDCancellationCode {
		return nil, fmt.Errorf("refusal of cancel request %s: no cancellation response code", nodes.info.CancellationID)
	}
	d := newReplyDoc(v3.InFamily(v3.CancelResponse, nodes.family), nodes, ends, env)
	d.code = reasons[0]
	d.code.Severity = ""
	d.code.Display = core.V3LineEnds(d.code.Display)
	d.typeCode = core.AckError
	d.noLineItem = nodes.info.LineItemID == ""
	return d.write()
}

// readCancelRequestNodesLeniently reads the ids and the elements a
// response repeats of a Cancel Request without checking the rest of it
// (readCancelRequestNodes checks the whole request): what a refusal of a
// request that does not map can still say. It fails when the message is
// not a cancel request, or lacks its patient, author, prescription id or
// CancellationRequest id.
func readCancelRequestNodesLeniently(request []byte) (*cancelRequestNodes, error) {
	_, root, fam, err := parseCancelRequest(request)
	if err != nil {
		return nil, err
	}
	w, subject := v3.ReadWrapper(root) // its problems are the refusal's, not this reading's
	cr := subject.Opt("CancellationRequest")
	out, err := cancelRequestNodesOf(root, w, cr, fam)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: a refusal repeats them", err)
	case strings.TrimSpace(out.info.CancellationID) == "":
		return nil, cancelError(root.El.Tag, cr.Path()+"/id/@root", "missing: a refusal refers to the CancellationRequest by its id")
	case strings.TrimSpace(out.info.PrescriptionID) == "":
		return nil, cancelError(root.El.Tag, cr.Path()+"/pertinentInformation2", "missing: a refusal names the prescription")
	case out.info.SenderASID == "":
		return nil, cancelError(root.El.Tag, "/"+root.El.Tag+"/communicationFunctionSnd", "missing: a refusal goes back to the sender's ASID")
	}
	return out, nil
}
