package v3

import (
	"strings"
	"testing"
)

// wrapperBase is a transmission wrapper and ControlActEvent as a legacy
// dispenser sends them (MCCI_MT010101UK12, MCAI_MT040101UK03) around a
// payload the wrapper reader does not look into.
const wrapperBase = `<PORX_IN060102UK30 xmlns="urn:hl7-org:v3">
<id root="B7A1E6C2-54D0-4F8B-9C3A-2E1D0F9A8B71"/>
<creationTime value="20240612101455"/>
<versionCode code="V3NPfIT4.2.00"/>
<interactionId root="2.16.840.1.113883.2.1.3.2.4.12" extension="PORX_IN060102UK30"/>
<processingCode code="P"/>
<processingModeCode code="T"/>
<acceptAckCode code="NE"/>
<communicationFunctionRcv typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="567456789789"/></device></communicationFunctionRcv>
<communicationFunctionSnd typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="230811201324"/></device></communicationFunctionSnd>
<ControlActEvent classCode="CACT" moodCode="EVN">
<author typeCode="AUT"><AgentPersonSDS classCode="AGNT"><id root="1.2.826.0.1285.0.2.0.67" extension="741555508105"/><agentPersonSDS classCode="PSN" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.65" extension="7654321"/></agentPersonSDS><part typeCode="PART"><partSDSRole classCode="ROL"><id root="1.2.826.0.1285.0.2.1.104" extension="R8003"/></partSDSRole></part></AgentPersonSDS></author>
<author1 typeCode="AUT"><AgentSystemSDS classCode="AGNT"><agentSystemSDS classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="230811201324"/></agentSystemSDS></AgentSystemSDS></author1>
<subject><Payload/></subject>
</ControlActEvent>
</PORX_IN060102UK30>`

// Pieces of wrapperBase the cases edit.
const (
	wbRcv     = `<communicationFunctionRcv typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="567456789789"/></device></communicationFunctionRcv>`
	wbSnd     = `<communicationFunctionSnd typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="230811201324"/></device></communicationFunctionSnd>`
	wbSndID   = `<id root="1.2.826.0.1285.0.2.0.107" extension="230811201324"/></device></communicationFunctionSnd>`
	wbRcvID   = `<id root="1.2.826.0.1285.0.2.0.107" extension="567456789789"/>`
	wbAuthor1 = `<author1 typeCode="AUT"><AgentSystemSDS classCode="AGNT"><agentSystemSDS classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="230811201324"/></agentSystemSDS></AgentSystemSDS></author1>`
	wbRoleID  = `<id root="1.2.826.0.1285.0.2.0.67" extension="741555508105"/>`
	wbAuthor  = `<author typeCode="AUT">`
)

// author1Of is an author1 naming the system with id root and extension.
func author1Of(root, ext string) string {
	return `<author1 typeCode="AUT"><AgentSystemSDS classCode="AGNT"><agentSystemSDS classCode="DEV" determinerCode="INSTANCE"><id root="` +
		root + `" extension="` + ext + `"/></agentSystemSDS></AgentSystemSDS></author1>`
}

// TestReadWrapperCardinalities: the wrapper reader holds a message to the
// cardinalities of the MIM 4.2.00 transmission and control act wrappers
// and Spine's checks of them (nhsdigitalmait/SPINE_schema,
// TightenedSchemas MCCI_MT010101UK12 / MCAI_MT040101UK03, and
// spine2_xslt/nonBatch-Validate.xsl). Before, it took the first of a
// repeated once-only element (two senders, two message ids, two authors,
// a third author1...) and dropped the rest unsaid, took a device's first id
// whatever its root as the ASID, and read a message without author1.
func TestReadWrapperCardinalities(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits []string // from, to pairs applied to wrapperBase in turn
		// wantErr are texts the error must hold; none: the message is read.
		wantErr []string
		// sender, receiver and system are the ASIDs read, when accepted.
		sender, receiver, system string
	}{
		{name: "as sent", sender: "230811201324", receiver: "567456789789", system: "230811201324"},
		{name: "a second author1 (1..2): the first names the system",
			edits:  []string{wbAuthor1, wbAuthor1 + author1Of("2.16.840.1.113883.2.1.3.2.4.99", "OTHER-SYSTEM")},
			sender: "230811201324", receiver: "567456789789", system: "230811201324"},
		{name: "a receiver device with another id before its ASID (id 1..*)",
			edits:  []string{wbRcvID, `<id root="2.16.840.1.113883.2.1.3.2.4.99" extension="LOCAL-1"/>` + wbRcvID},
			sender: "230811201324", receiver: "567456789789", system: "230811201324"},
		{name: "a second receiver without an ASID (communicationFunctionRcv 1..*)",
			edits:  []string{wbRcv, wbRcv + strings.Replace(wbRcv, `root="1.2.826.0.1285.0.2.0.107" extension="567456789789"`, `root="2.16.840.1.113883.2.1.3.2.4.99" extension="LOCAL-2"`, 1)},
			sender: "230811201324", receiver: "567456789789", system: "230811201324"},
		{name: "a second receiver with its ASID first",
			edits:  []string{wbRcv, strings.Replace(wbRcv, `root="1.2.826.0.1285.0.2.0.107" extension="567456789789"`, `root="2.16.840.1.113883.2.1.3.2.4.99" extension="LOCAL-2"`, 1) + wbRcv},
			sender: "230811201324", receiver: "567456789789", system: "230811201324"},

		{name: "two senders", edits: []string{wbSnd, wbSnd + strings.Replace(wbSnd, "230811201324", "999999999999", 1)},
			wantErr: []string{"/PORX_IN060102UK30/communicationFunctionSnd[2]", "repeated"}},
		{name: "two receivers, each with an ASID", edits: []string{wbRcv, wbRcv + strings.Replace(wbRcv, "567456789789", "111111111111", 1)},
			wantErr: []string{"/communicationFunctionRcv[2]/device/id", "second receiver ASID"}},
		{name: "two ASIDs in the sender's device", edits: []string{wbSndID, `<id root="1.2.826.0.1285.0.2.0.107" extension="999999999999"/>` + wbSndID},
			wantErr: []string{"/communicationFunctionSnd/device/id[2]", "second sender ASID"}},
		{name: "two devices in the sender", edits: []string{`</device></communicationFunctionSnd>`, `</device><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="999999999999"/></device></communicationFunctionSnd>`},
			wantErr: []string{"/communicationFunctionSnd/device[2]", "repeated"}},
		{name: "a sender's id not under the ASID root", edits: []string{wbSndID, strings.Replace(wbSndID, "1.2.826.0.1285.0.2.0.107", "2.16.840.1.113883.2.1.3.2.4.99", 1)},
			wantErr: []string{"/communicationFunctionSnd/device/id", "no sender ASID"}},
		{name: "an empty receiver ASID", edits: []string{wbRcvID, `<id root="1.2.826.0.1285.0.2.0.107" extension=""/>`},
			wantErr: []string{"/communicationFunctionRcv/device/id/@extension", "empty value"}},
		{name: "no receiver", edits: []string{wbRcv, ""},
			wantErr: []string{"/communicationFunctionRcv", "missing mandatory element"}},
		{name: "a third author1", edits: []string{wbAuthor1, wbAuthor1 + wbAuthor1 + wbAuthor1},
			wantErr: []string{"/ControlActEvent/author1[3]", "the model allows 2"}},
		{name: "no author1", edits: []string{wbAuthor1, ""},
			wantErr: []string{"/ControlActEvent/author1", "missing mandatory element"}},
		{name: "the authoring system not under the ASID root", edits: []string{wbAuthor1, author1Of("2.16.840.1.113883.2.1.3.2.4.99", "230811201324")},
			wantErr: []string{"/ControlActEvent/author1/AgentSystemSDS/agentSystemSDS/id/@root", "identifier root"}},
		{name: "a second author1 without its id's extension", edits: []string{wbAuthor1, wbAuthor1 + author1Of("2.16.840.1.113883.2.1.3.2.4.99", "")},
			wantErr: []string{"/ControlActEvent/author1[2]/AgentSystemSDS/agentSystemSDS/id/@extension", "empty value"}},
		{name: "two ids for the authoring system", edits: []string{`extension="230811201324"/></agentSystemSDS>`, `extension="230811201324"/><id root="1.2.826.0.1285.0.2.0.107" extension="999999999999"/></agentSystemSDS>`},
			wantErr: []string{"/ControlActEvent/author1/AgentSystemSDS/agentSystemSDS/id[2]", "repeated"}},
		{name: "two authors", edits: []string{wbAuthor, wbAuthor + `<AgentPersonSDS/></author>` + wbAuthor},
			wantErr: []string{"/ControlActEvent/author[2]", "repeated"}},
		{name: "two role profile ids", edits: []string{wbRoleID, wbRoleID + strings.Replace(wbRoleID, "741555508105", "100000000001", 1)},
			wantErr: []string{"/ControlActEvent/author/AgentPersonSDS/id[2]", "repeated"}},
		{name: "a role profile id under the user root", edits: []string{wbRoleID, strings.Replace(wbRoleID, "0.2.0.67", "0.2.0.65", 1)},
			wantErr: []string{"/ControlActEvent/author/AgentPersonSDS/id/@root", "identifier root"}},
		{name: "two message ids", edits: []string{`<creationTime`, `<id root="C7A1E6C2-54D0-4F8B-9C3A-2E1D0F9A8B71"/><creationTime`},
			wantErr: []string{"/PORX_IN060102UK30/id[2]", "repeated"}},
		{name: "an empty message id", edits: []string{`<id root="B7A1E6C2-54D0-4F8B-9C3A-2E1D0F9A8B71"/>`, `<id root=""/>`},
			wantErr: []string{"/PORX_IN060102UK30/id/@root", "empty value"}},
		{name: "two interaction ids", edits: []string{`<processingCode`, `<interactionId root="2.16.840.1.113883.2.1.3.2.4.12" extension="PORX_IN132004UK30"/><processingCode`},
			wantErr: []string{"/PORX_IN060102UK30/interactionId[2]", "repeated"}},
		{name: "an interaction id under another root", edits: []string{`interactionId root="2.16.840.1.113883.2.1.3.2.4.12"`, `interactionId root="2.16.840.1.113883.2.1.3.2.4.99"`},
			wantErr: []string{"/PORX_IN060102UK30/interactionId/@root", "identifier root"}},
		{name: "two creation times", edits: []string{`<versionCode`, `<creationTime value="20240612101456"/><versionCode`},
			wantErr: []string{"/PORX_IN060102UK30/creationTime[2]", "repeated"}},
		{name: "two ControlActEvents", edits: []string{`</PORX_IN060102UK30>`, `<ControlActEvent classCode="CACT" moodCode="EVN"/></PORX_IN060102UK30>`},
			wantErr: []string{"/PORX_IN060102UK30/ControlActEvent[2]", "repeated"}},
		{name: "two subjects", edits: []string{`<subject><Payload/></subject>`, `<subject><Payload/></subject><subject><Payload/></subject>`},
			wantErr: []string{"/ControlActEvent/subject[2]", "repeated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := wrapperBase
			for i := 0; i+1 < len(tc.edits); i += 2 {
				if !strings.Contains(msg, tc.edits[i]) {
					t.Fatalf("the base message has no %s", tc.edits[i])
				}
				msg = strings.Replace(msg, tc.edits[i], tc.edits[i+1], 1)
			}
			r, root, err := Parse([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			w, subject := ReadWrapper(root)
			err = r.Err()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if w.SenderASID != tc.sender || w.ReceiverASID != tc.receiver || w.SystemASID != tc.system {
					t.Errorf("ASIDs sender %q receiver %q system %q, want %q %q %q", w.SenderASID, w.ReceiverASID, w.SystemASID, tc.sender, tc.receiver, tc.system)
				}
				if w.Author == nil || *w.Author != (Agent{RoleProfileID: "741555508105", UserID: "7654321", JobRoleCode: "R8003"}) {
					t.Errorf("author %+v", w.Author)
				}
				if !subject.Opt("Payload").Exists() {
					t.Error("no subject payload")
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted (sender %q receiver %q system %q), want an error with %q", w.SenderASID, w.ReceiverASID, w.SystemASID, tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// FuzzReadWrapper: no wrapper, however malformed, makes the reader panic;
// one it accepts names its sender, receiver and authoring system by ASID
// and holds one sender, one ControlActEvent and one or two author1.
func FuzzReadWrapper(f *testing.F) {
	f.Add([]byte(wrapperBase))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, root, err := Parse(data)
		if err != nil {
			return
		}
		w, _ := ReadWrapper(root)
		if r.Err() != nil {
			return
		}
		if w.SenderASID == "" || w.ReceiverASID == "" || w.SystemASID == "" {
			t.Fatalf("accepted without an ASID: sender %q receiver %q system %q", w.SenderASID, w.ReceiverASID, w.SystemASID)
		}
		count := func(n Node, tag string) int { return len(n.All(tag)) }
		cae := root.Child("ControlActEvent")
		if s, c, a1 := count(root, "communicationFunctionSnd"), count(root, "ControlActEvent"), count(cae, "author1"); s != 1 || c != 1 || a1 < 1 || a1 > 2 {
			t.Fatalf("accepted with %d senders, %d ControlActEvents, %d author1", s, c, a1)
		}
	})
}
