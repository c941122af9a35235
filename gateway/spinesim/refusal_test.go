package spinesim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/spinesim"
)

// TestStandInRefusesWithMessageError: the stand-in's doc promised an
// ebXML MessageError (HTTP 500) for what it cannot take, as Spine answers;
// it answered a text/plain error page, which comparison mode rightly takes
// for no answer at all (the message waits and is sent again) where Spine's
// refusal goes to the dead letters and is compared. It now refuses with an
// eb:ErrorList: NotSupported for an interaction it does not carry,
// and an error of the ebXML reader for a message it cannot read.
func TestStandInRefusesWithMessageError(t *testing.T) {
	url := serve(t, spinesim.New(spinesim.Options{Log: quietLog()}))
	tests := []struct {
		name string
		req  compare.Request
		code ebxml.ErrorCode
	}{
		{"interaction it does not carry", compare.Request{Interaction: "PORX_IN999999UK31", MessageID: "6E2F1C2D-0000-4000-8000-0000000000B1",
			FromParty: senderParty, ToParty: spineParty, CPAID: senderCPA, Payload: []byte(`<PORX_IN999999UK31 xmlns="urn:hl7-org:v3"/>`)}, ebxml.CodeNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&compare.Legacy{URL: url}).Call(context.Background(), tt.req)
			var rf *compare.RouteFault
			if !errors.As(err, &rf) {
				t.Fatalf("Call: %v, want the stand-in's refusal (a RouteFault)", err)
			}
			if rf.Status != 500 || compare.RefusalKind(rf.Fault) != "ebXML MessageError" || len(rf.Fault.Errors) != 1 || rf.Fault.Errors[0].Code != string(tt.code) {
				t.Errorf("refusal %d %s %+v, want HTTP 500 and an ebXML MessageError %s", rf.Status, compare.RefusalKind(rf.Fault), rf.Fault.Errors, tt.code)
			}
		})
	}
	t.Run("not an ebXML message", func(t *testing.T) {
		resp, err := http.Post(url, `multipart/related; boundary="x"; type="text/xml"`, strings.NewReader("--x\r\n\r\nnot a SOAP envelope\r\n--x--\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		_, err = ebxml.ParseSignal(body)
		var el *ebxml.ErrorListError
		if resp.StatusCode != http.StatusInternalServerError || !errors.As(err, &el) || len(el.Refusing()) != 1 {
			t.Fatalf("HTTP %d %v, want 500 and an eb:ErrorList refusing the message\n%s", resp.StatusCode, err, body)
		}
	})
}
