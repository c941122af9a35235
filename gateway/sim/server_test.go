package sim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/ids"
)

// counterIDs returns a deterministic id generator.
func counterIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) }
}

// startSim serves a simulator on 127.0.0.1:0 until the test ends.
func startSim(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NewID == nil {
		opts.NewID = counterIDs()
	}
	s := New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, "http://" + ln.Addr().String()
}

type answer struct {
	status int
	body   []byte
	json   map[string]any
}

func do(t *testing.T, method, u string, body []byte, hdr map[string]string) answer {
	t.Helper()
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rdr)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, body: b}
	_ = json.Unmarshal(b, &a.json)
	return a
}

// issueCode returns the first issue's details code (or issue code).
func (a answer) issueCode() string {
	issues, _ := a.json["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	is := issues[0].(map[string]any)
	if d, ok := is["details"].(map[string]any); ok {
		return d["coding"].([]any)[0].(map[string]any)["code"].(string)
	}
	return is["code"].(string)
}

func (a answer) want(t *testing.T, status int, code string) {
	t.Helper()
	if a.status != status || (code != "" && a.issueCode() != code) {
		t.Fatalf("answer %d %s, want %d %s: %s", a.status, a.issueCode(), status, code, a.body)
	}
}

func TestServerPrescriptionLifecycle(t *testing.T) {
	s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	post := func(path, fix string, extra map[string]string) answer {
		return do(t, http.MethodPost, api+path, fixture(t, fix, p.repl(extra)), nil)
	}

	order := fixture(t, "prescription-order.json", p.repl(nil))
	do(t, http.MethodPost, api+"/$process-message", order, nil).want(t, 200, "informational")
	post("/$process-message", "prescription-order.json", nil).want(t, 400, "DUPLICATE_PRESCRIPTION_ID")
	post("/$process-message", "prescription-order.json", map[string]string{"SHORTFORMID": "269CA9-A99968-4577BP"}).
		want(t, 400, "FAILURE_TO_PROCESS_MESSAGE")
	post("/Claim", "claim.json", nil).want(t, 400, "CLAIM_INVALID_NOT_DISPENSED")

	rel := post("/Task/$release", "release-nominated.json", nil)
	rel.want(t, 200, "")
	passed := rel.json["parameter"].([]any)[0].(map[string]any)
	if passed["name"] != paramPassed {
		t.Fatalf("first parameter %v", passed["name"])
	}
	pb := passed["resource"].(map[string]any)
	if pb["total"].(float64) != 1 {
		t.Fatalf("passedPrescriptions total %v", pb["total"])
	}
	got := pb["entry"].([]any)[0].(map[string]any)["resource"]
	stored, _ := json.Marshal(got)
	var want any
	_ = json.Unmarshal(order, &want)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(stored, wantJSON) {
		t.Fatal("released Bundle differs from the stored prescription-order")
	}
	post("/Task/$release", "release-nominated.json", nil).want(t, 200, "")
	post("/Task/$release", "release-patient.json", map[string]string{"PHARMACY": "FA666"}).want(t, 400, "PRESCRIPTION_WITH_ANOTHER_DISPENSER")
	post("/Task/$release", "release-patient.json", map[string]string{"SHORTFORMID": newRx(t, 77, "X").sf}).want(t, 400, "RESOURCE_NOT_FOUND")

	post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0004", "MESSAGEID": "d1"}).want(t, 200, "informational")
	post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0001", "MESSAGEID": "d2", "REPLACES": "d1"}).want(t, 200, "informational")
	post("/Task", "withdraw.json", map[string]string{"FOCUSID": "d2"}).want(t, 200, "informational")
	post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0001", "MESSAGEID": "d3"}).want(t, 200, "informational")
	post("/Claim", "claim.json", nil).want(t, 200, "informational")
	post("/Claim", "claim.json", map[string]string{"CLAIMID": "c2", "REPLACES": "c0000000-0000-4000-8000-000000000001"}).want(t, 200, "informational")

	task := trackerTaskOver(t, api, p.sf)
	if bs := businessStatus(task); bs != string(StatusClaimed) || task["status"] != "completed" {
		t.Fatalf("tracker Task business status %v status %v", bs, task["status"])
	}
	tr := do(t, http.MethodGet, api+"/Task?patient:identifier="+p.nhs+"&business-status=0001", nil, nil)
	if tr.status != 200 || tr.json["total"].(float64) != 0 {
		t.Fatalf("tracker by patient and status: %s", tr.body)
	}
	do(t, http.MethodGet, api+"/Task?foo=1", nil, nil).want(t, 400, "invalid")
	do(t, http.MethodGet, api+"/Task", nil, nil).want(t, 400, "invalid")

	c := post("/$process-message", "cancel.json", nil)
	c.want(t, 400, "")
	if !strings.Contains(string(c.body), `"R-0004"`) {
		t.Fatalf("cancel of a dispensed item: %s", c.body)
	}
	if s.Stats().Requests["process-message"] != 7 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

func TestServerCancelAnswers(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	post := func(p rx, fix string, extra map[string]string) answer {
		return do(t, http.MethodPost, api+"/$process-message", fixture(t, fix, p.repl(extra)), nil)
	}
	a := newRx(t, 1, "FH542")
	post(a, "prescription-order.json", nil).want(t, 200, "")
	cancelID := ids.NewUUID()
	ok := post(a, "cancel.json", map[string]string{"MESSAGEID": cancelID})
	ok.want(t, 200, "")
	entries := ok.json["entry"].([]any)
	mh := entries[0].(map[string]any)["resource"].(map[string]any)
	if mh["resourceType"] != "MessageHeader" || mh["eventCoding"].(map[string]any)["code"] != fhir.EventPrescriptionOrderResponse ||
		mh["response"].(map[string]any)["identifier"] != cancelID {
		t.Fatalf("response MessageHeader %v", mh)
	}
	mr := entries[1].(map[string]any)["resource"].(map[string]any)
	exts := mr["extension"].([]any)
	hist := exts[len(exts)-1].(map[string]any)
	code := hist["extension"].([]any)[0].(map[string]any)["valueCoding"].(map[string]any)["code"]
	if mr["status"] != "cancelled" || hist["url"] != fhir.ExtensionPrescriptionStatusHistory || code != "R-0001" {
		t.Fatalf("cancelled MedicationRequest %v", mr)
	}

	b := newRx(t, 2, "FH542")
	post(b, "prescription-order.json", nil).want(t, 200, "")
	do(t, http.MethodPost, api+"/Task/$release", fixture(t, "release-patient.json", b.repl(nil)), nil).want(t, 200, "")
	pend := post(b, "cancel.json", nil)
	pend.want(t, 400, "")
	if !strings.Contains(string(pend.body), `"R-0002"`) {
		t.Fatalf("pending cancel: %s", pend.body)
	}
	do(t, http.MethodPost, api+"/Task", fixture(t, "return.json", b.repl(nil)), nil).want(t, 200, "")
	res := do(t, http.MethodGet, base+"/_admin/cancellations", nil, nil)
	if !strings.Contains(string(res.body), `"code":"R-0001"`) || !strings.Contains(string(res.body), b.item1) {
		t.Fatalf("resolutions: %s", res.body)
	}

	post(newRx(t, 3, "FH542"), "cancel.json", nil).want(t, 400, "R-0008")
	post(a, "cancel.json", map[string]string{"NHSNUMBER": "9999999999"}).want(t, 400, "R-5000")
	bad := fixture(t, "cancel.json", a.repl(nil))
	bad = bytes.Replace(bad, []byte(`"status": "cancelled"`), []byte(`"status": "active"`), 1)
	do(t, http.MethodPost, api+"/$process-message", bad, nil).want(t, 400, "value")
}

func TestServerMisc(t *testing.T) {
	_, base := startSim(t, Options{})
	api := base + DefaultBasePath
	md := do(t, http.MethodGet, api+"/metadata", nil, nil)
	if md.status != 200 || md.json["capabilityStatement"] == nil {
		t.Fatalf("metadata: %d %s", md.status, md.body)
	}
	do(t, http.MethodPost, api+"/$prepare", []byte(`{}`), nil).want(t, 501, "not-supported")
	do(t, http.MethodGet, api+"/Nope", nil, nil).want(t, 404, "not-supported")
	do(t, http.MethodGet, base+"/elsewhere", nil, nil).want(t, 404, "not-found")
	do(t, http.MethodPost, api+"/$process-message", []byte(`{"resourceType":"Bundle"}`), nil).want(t, 400, "INVALID_VALUE")
	do(t, http.MethodPost, api+"/Task", []byte(`{}`), nil).want(t, 400, "INVALID_VALUE")
	a := do(t, http.MethodGet, base+"/_admin/stats", nil, nil)
	if a.status != 200 || a.json["requests"] == nil {
		t.Fatalf("stats: %s", a.body)
	}
}

func TestServerPrepareHook(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 },
		Digest: func(_ context.Context, b []byte, now time.Time) (PrepareResult, error) {
			return PrepareResult{Digest: base64.StdEncoding.EncodeToString(b[:2]), Algorithm: "RS1"}, nil
		}})
	a := do(t, http.MethodPost, base+DefaultBasePath+"/$prepare", []byte(`{}`), nil)
	if a.status != 200 || !strings.Contains(string(a.body), `"valueString":"2022-`) && !strings.Contains(string(a.body), fhirTime(t0)) {
		t.Fatalf("prepare: %d %s", a.status, a.body)
	}
}

func TestServerFaults(t *testing.T) {
	var r atomic.Value
	r.Store(0.9)
	s, base := startSim(t, Options{Rand: func() float64 { return r.Load().(float64) }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	order := fixture(t, "prescription-order.json", p.repl(nil))
	setFaults := func(js string) {
		t.Helper()
		a := do(t, http.MethodPost, base+"/_admin/faults", []byte(js), nil)
		if a.status != 200 {
			t.Fatalf("set faults %s: %d %s", js, a.status, a.body)
		}
	}

	setFaults(`{"force5xx": 2}`)
	do(t, http.MethodPost, api+"/$process-message", order, nil).want(t, 503, "transient")
	do(t, http.MethodGet, api+"/metadata", nil, nil).want(t, 503, "transient")
	if s.State().Len() != 0 {
		t.Fatal("force5xx processed the request")
	}
	setFaults(`{"fail5xxAfter": 1, "status": 502}`)
	do(t, http.MethodPost, api+"/$process-message", order, nil).want(t, 502, "transient")
	if s.State().Len() != 1 {
		t.Fatal("fail5xxAfter did not process the request")
	}
	// Sent again, the same message (its Bundle.identifier) is one EPS took:
	// Spine's 202 Duplicate HL7 ID Error; under a new id, a duplicate
	// prescription.
	do(t, http.MethodPost, api+"/$process-message", order, nil).want(t, 400, "202")
	do(t, http.MethodPost, api+"/$process-message", fixture(t, "prescription-order.json", p.repl(nil)), nil).want(t, 400, "DUPLICATE_PRESCRIPTION_ID")

	setFaults(`{"errorRate": 0.5}`)
	do(t, http.MethodGet, api+"/metadata", nil, nil).want(t, 200, "")
	r.Store(0.1)
	do(t, http.MethodGet, api+"/metadata", nil, nil).want(t, 503, "transient")

	setFaults(`{"down": true}`)
	resp, err := http.Post(api+"/Claim", contentTypeFHIR, strings.NewReader(`{}`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("down: got status %d, want a connection error", resp.StatusCode)
	}
	if a := do(t, http.MethodGet, base+"/_admin/faults", nil, nil); a.json["down"] != true {
		t.Fatalf("GET faults: %s", a.body)
	}
	do(t, http.MethodDelete, base+"/_admin/faults", nil, nil)
	do(t, http.MethodGet, api+"/metadata", nil, nil).want(t, 200, "")

	setFaults(`{"dropAfter": 1}`)
	p2 := newRx(t, 2, "FH542")
	if resp, err := http.Post(api+"/$process-message", contentTypeFHIR, bytes.NewReader(fixture(t, "prescription-order.json", p2.repl(nil)))); err == nil {
		resp.Body.Close()
		t.Fatalf("dropAfter: got status %d, want a connection error", resp.StatusCode)
	}
	if _, ok := s.State().Get(p2.sf); !ok {
		t.Fatal("dropAfter did not process the request")
	}

	for _, bad := range []string{`{"errorRate": 2}`, `{"latencyMs": -1}`, `{"nope": 1}`, `{"status": 42}`, `[`} {
		if a := do(t, http.MethodPost, base+"/_admin/faults", []byte(bad), nil); a.status != 400 {
			t.Errorf("faults %s accepted: %d", bad, a.status)
		}
	}
}

func TestServerLatencyHonoursCaller(t *testing.T) {
	_, base := startSim(t, Options{Faults: Faults{LatencyMs: 60_000}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+DefaultBasePath+"/metadata", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("latency fault did not delay the answer")
	}
}

func TestServerReplayRequestIDs(t *testing.T) {
	s, base := startSim(t, Options{ReplayRequestIDs: true, Faults: Faults{Fail5xxAfter: 1}})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	order := fixture(t, "prescription-order.json", p.repl(nil))
	h := map[string]string{"X-Request-ID": "r-1"}
	do(t, http.MethodPost, api+"/$process-message", order, h).want(t, 503, "transient")
	do(t, http.MethodPost, api+"/$process-message", order, h).want(t, 200, "informational")
	do(t, http.MethodPost, api+"/$process-message", order, map[string]string{"X-Request-ID": "r-2"}).want(t, 400, "202")
	if st := s.Stats(); st.Replayed != 1 || s.State().Len() != 1 {
		t.Fatalf("replayed %d, prescriptions %d", st.Replayed, s.State().Len())
	}
}

// signTestJWT builds a client assertion with the given claims.
func signTestJWT(t testing.TB, key *rsa.PrivateKey, alg, kid string, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": kid})
	c, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha512.Sum512([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA512, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	a, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestTokenEndpoint(t *testing.T) {
	key, other := testKeys(t)
	_, base := startSim(t, Options{PublicKey: &key.PublicKey, APIKey: "app-key", Kid: "k1", Now: func() time.Time { return t0 }})
	aud := base + "/oauth2/token"
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": "app-key", "sub": "app-key", "aud": aud, "jti": "j-" + t.Name(), "exp": t0.Add(4 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	form := func(jwt string) []byte {
		return []byte(url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {jwt}}.Encode())
	}
	post := func(body []byte) answer {
		return do(t, http.MethodPost, aud, body, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}
	api := base + DefaultBasePath + "/metadata"
	do(t, http.MethodGet, api, nil, nil).want(t, 401, "ACCESS_DENIED")

	var jti atomic.Int64
	fresh := func(c map[string]any) map[string]any { c["jti"] = fmt.Sprint("j", jti.Add(1)); return c }
	tests := []struct {
		name   string
		jwt    string
		status int
	}{
		{"other key", signTestJWT(t, other, "RS512", "k1", fresh(claims(nil))), 401},
		{"wrong alg", signTestJWT(t, key, "RS256", "k1", fresh(claims(nil))), 400},
		{"wrong kid", signTestJWT(t, key, "RS512", "k2", fresh(claims(nil))), 400},
		{"no kid", signTestJWT(t, key, "RS512", "", fresh(claims(nil))), 400},
		{"wrong aud", signTestJWT(t, key, "RS512", "k1", fresh(claims(func(c map[string]any) { c["aud"] = "https://x/other" }))), 400},
		{"expired", signTestJWT(t, key, "RS512", "k1", fresh(claims(func(c map[string]any) { c["exp"] = t0.Add(-time.Second).Unix() }))), 400},
		{"exp too far", signTestJWT(t, key, "RS512", "k1", fresh(claims(func(c map[string]any) { c["exp"] = t0.Add(6 * time.Minute).Unix() }))), 400},
		{"iss not sub", signTestJWT(t, key, "RS512", "k1", fresh(claims(func(c map[string]any) { c["sub"] = "x" }))), 400},
		{"wrong key id", signTestJWT(t, key, "RS512", "k1", fresh(claims(func(c map[string]any) { c["iss"], c["sub"] = "x", "x" }))), 401},
		{"no jti", signTestJWT(t, key, "RS512", "k1", claims(func(c map[string]any) { delete(c, "jti") })), 400},
		{"garbage", "a.b.c", 400},
		{"not a JWT", "x", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := post(form(tt.jwt)); a.status != tt.status || a.json["error"] == nil {
				t.Fatalf("token: %d %s, want %d", a.status, a.body, tt.status)
			}
		})
	}
	if a := post([]byte("grant_type=password")); a.status != 400 {
		t.Fatalf("password grant: %d", a.status)
	}
	good := signTestJWT(t, key, "RS512", "k1", fresh(claims(nil)))
	a := post(form(good))
	if a.status != 200 || a.json["expires_in"] != "599" || a.json["token_type"] != "Bearer" {
		t.Fatalf("token: %d %s", a.status, a.body)
	}
	if r := post(form(good)); r.status != 400 || !strings.Contains(string(r.body), "jti") {
		t.Fatalf("reused jti: %d %s", r.status, r.body)
	}
	tok := a.json["access_token"].(string)
	do(t, http.MethodGet, api, nil, map[string]string{"Authorization": "Bearer " + tok}).want(t, 200, "")
	do(t, http.MethodGet, api, nil, map[string]string{"Authorization": "Bearer nope"}).want(t, 401, "ACCESS_DENIED")
}

func TestTokenEndpointWithoutKey(t *testing.T) {
	_, base := startSim(t, Options{})
	a := do(t, http.MethodPost, base+"/oauth2/token", []byte("grant_type=client_credentials"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if a.status != 400 || a.json["error"] != "invalid_client" {
		t.Fatalf("token without key: %d %s", a.status, a.body)
	}
}

func FuzzVerifyAssertion(f *testing.F) {
	key, _ := testKeys(f)
	now := t0
	f.Add(signTestJWT(f, key, "RS512", "k", map[string]any{"iss": "a", "sub": "a", "jti": "j", "exp": now.Add(time.Minute).Unix()}))
	f.Add("a.b.c")
	f.Add("")
	var mu sync.Mutex
	f.Fuzz(func(t *testing.T, jwt string) {
		mu.Lock()
		defer mu.Unlock()
		a, err := verifyAssertion(jwt, &key.PublicKey, now)
		if err == nil && (a.Iss == "" || a.Iss != a.Sub || a.Jti == "" || !a.Exp.After(now)) {
			t.Fatalf("accepted bad claims %+v", a)
		}
	})
}

// TestServerReplayWhileProcessing: with ReplayRequestIDs, a repeat of a
// request that comes while the first is still being processed (a client
// retrying after its attempt timed out) waits for the first's answer and
// gets it, instead of being processed beside it. Before, both missed the
// cache: the prescription was stored by one and the other was answered
// DUPLICATE_PRESCRIPTION_ID.
func TestServerReplayWhileProcessing(t *testing.T) {
	s, base := startSim(t, Options{ReplayRequestIDs: true, Faults: Faults{LatencyMs: 200}})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	order := fixture(t, "prescription-order.json", p.repl(nil))
	h := map[string]string{"X-Request-ID": "r-1"}
	answers := make(chan answer, 2)
	for range 2 {
		go func() { answers <- do(t, http.MethodPost, api+"/$process-message", order, h) }()
	}
	for range 2 {
		(<-answers).want(t, 200, "informational")
	}
	if st := s.Stats(); st.Replayed != 1 || s.State().Len() != 1 {
		t.Fatalf("replayed %d, prescriptions %d; want 1 and 1", st.Replayed, s.State().Len())
	}
}
