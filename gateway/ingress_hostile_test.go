package gateway

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hostileEbXML returns a prescription request from the test sender grown
// to about size bytes with refs further eb:Manifest references, each to
// a Content-Id no part has, and as many empty MIME parts without a
// Content-Id as fill the rest: the shape that costs a reader most per
// byte. It returns the Content-Type, the SOAPAction and the body.
func hostileEbXML(t *testing.T, id string, refs, size int) (string, string, []byte) {
	t.Helper()
	ct, action, body := newReq(id).build()
	// A boundary of one character makes each part 5 bytes.
	const boundary = "b"
	ct = strings.Replace(ct, "MIME_boundary_test", boundary, 1)
	body = bytes.ReplaceAll(body, []byte("--MIME_boundary_test"), []byte("--"+boundary))
	var m strings.Builder
	for i := range refs {
		fmt.Fprintf(&m, `<eb:Reference xlink:href="cid:r%d"/>`, i)
	}
	body = bytes.Replace(body, []byte("</eb:Manifest>"), []byte(m.String()+"</eb:Manifest>"), 1)
	closing := []byte("\n--" + boundary + "--\n")
	part := []byte("\n--" + boundary + "\n\n")
	n := (size - len(body)) / len(part)
	if n < 1 {
		t.Fatalf("%d references leave no room for parts in %d bytes", refs, size)
	}
	body = bytes.Replace(body, closing, append(bytes.Repeat(part, n), closing...), 1)
	return ct, action, body
}

// TestEbXMLManyManifestReferencesAndParts: a message within --max-body
// whose manifest names many Content-Ids no part has, beside many parts
// without a Content-Id, is answered within seconds. The door matched
// every reference against every part (twice: exactly, then ignoring
// case): with 20,000 references and 800,000 parts in 4 MiB a request
// held a CPU for about 90 s before its answer.
func TestEbXMLManyManifestReferencesAndParts(t *testing.T) {
	proc := newFakeProcessor()
	g := startGateway(t, testConfig(), newMemoryStore(), true, WithProcessor(proc))
	ct, action, body := hostileEbXML(t, newID(t, 930), 20000, 4<<20-1024)
	client := &http.Client{Timeout: 20 * time.Second}
	start := time.Now()
	code, b := post(t, client, g.base+PathEbXML, ct, action, body)
	t.Logf("%d bytes answered %d in %v", len(body), code, time.Since(start))
	if code != http.StatusAccepted && code != http.StatusInternalServerError {
		t.Fatalf("status %d\n%.500s", code, b)
	}
}
