package ebxml

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// testBoundary and testContentType match testdata/requests/porx_request.msg;
// the Content-Type is written unquoted, as legacy MHSs send it.
const (
	testBoundary    = "MIME_boundary_4f1c7e2a"
	testContentType = "multipart/related; boundary=MIME_boundary_4f1c7e2a; type=text/xml; start=ebXMLHeader@spine.nhs.uk"
	testSOAPAction  = "urn:nhs:names:services:mm/PORX_IN020101UK31"
	testMessageID   = "5B0E6C1D-7A3F-4E2B-9C8D-1F2E3A4B5C6D"
)

// readTestdata returns a file under testdata.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	return b
}

// requestLF returns the LF-terminated sample request.
func requestLF(t testing.TB) []byte {
	t.Helper()
	return readTestdata(t, "requests/porx_request.msg")
}

// toCRLF turns every LF into CRLF.
func toCRLF(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// expectedPayload cuts the HL7 payload out of a sample body independently
// of the parser: from its XML declaration to the end of its root element.
func expectedPayload(t testing.TB, body []byte) []byte {
	t.Helper()
	end := []byte("</PORX_IN020101UK31>")
	i := bytes.Index(body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n<PORX_IN020101UK31"))
	if i < 0 {
		i = bytes.Index(body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\r\n<PORX_IN020101UK31"))
	}
	j := bytes.Index(body, end)
	if i < 0 || j < 0 {
		t.Fatal("sample body has no PORX payload")
	}
	return body[i : j+len(end)]
}

// mustParse parses a request and fails the test on error.
func mustParse(t testing.TB, ct, action string, body []byte) *Message {
	t.Helper()
	m, err := ParseRequest(ct, action, body)
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	return m
}

// asMessageError unwraps a *MessageError or fails the test.
func asMessageError(t testing.TB, err error) *MessageError {
	t.Helper()
	var me *MessageError
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *MessageError", err, err)
	}
	return me
}
