package cancels

import (
	"errors"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
)

// The fixture prescription (cancelstest).
const (
	rxID       = cancelstest.RxID
	rxLineItem = cancelstest.RxLineItem
)

func TestParseTrackerAnswer(t *testing.T) {
	const pid = "C1D2E3-A99968-00A1BM"
	item := strings.ToLower(rxLineItem)
	cases := []struct {
		name      string
		body      []byte
		wantCode  string
		settled   bool
		found     bool
		wantOwner string
	}{
		{"with dispenser", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0002", "FCG71", "2024-01-01T00:00:00Z", map[string]string{item: "0008"})), "", false, true, "FCG71"},
		{"owing", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0003", "FCG71", "2024-01-01T00:00:00Z", map[string]string{item: "0004"})), "", false, true, "FCG71"},
		{"cancelled on return", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0005", "", "2024-01-01T00:00:00Z", map[string]string{item: "0005"})), "0001", true, true, ""},
		{"dispensed", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0006", "FCG71", "2024-01-01T00:00:00Z", map[string]string{item: "0001"})), "0004", true, true, "FCG71"},
		{"partial: still with the dispenser", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0003", "FCG71", "2024-01-01T00:00:00Z", map[string]string{item: "0003"})), "", false, true, "FCG71"},
		{"not dispensed", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0007", "FCG71", "2024-01-01T00:00:00Z", map[string]string{item: "0002"})), "0010", true, true, "FCG71"},
		{"expired item", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0004", "", "2024-01-01T00:00:00Z", map[string]string{item: "0006"})), "0005", true, true, ""},
		{"no item status, prescription cancelled", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0005", "", "2024-01-01T00:00:00Z", map[string]string{item: ""})), "0001", true, true, ""},
		{"no item status, with dispenser", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0002", "", "2024-01-01T00:00:00Z", map[string]string{item: ""})), "", false, true, ""},
		{"item not listed", cancelstest.Searchset(t, cancelstest.TrackerTask(pid, "0002", "", "2024-01-01T00:00:00Z", map[string]string{"other": "0005"})), "", false, false, ""},
		{"newest of two issues wins", cancelstest.Searchset(t,
			cancelstest.TrackerTask(pid, "0002", "", "2024-01-01T00:00:00Z", map[string]string{item: "0008"}),
			cancelstest.TrackerTask(pid, "0006", "", "2024-02-01T00:00:00Z", map[string]string{item: "0001"})), "0004", true, true, ""},
		{"other prescriptions ignored", cancelstest.Searchset(t,
			cancelstest.TrackerTask("AAAAAA-A99968-00000X", "0005", "", "2024-03-01T00:00:00Z", map[string]string{item: "0005"}),
			cancelstest.TrackerTask(pid, "0002", "", "2024-01-01T00:00:00Z", map[string]string{item: "0008"})), "", false, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseTrackerAnswer(tc.body, strings.ToLower(pid))
			if err != nil {
				t.Fatal(err)
			}
			code, settled, found := v.itemCode(rxLineItem)
			if code != tc.wantCode || settled != tc.settled || found != tc.found || v.Owner != tc.wantOwner {
				t.Errorf("itemCode = %q %v %v owner %q; want %q %v %v %q", code, settled, found, v.Owner, tc.wantCode, tc.settled, tc.found, tc.wantOwner)
			}
		})
	}
}

func TestParseTrackerAnswerMalformed(t *testing.T) {
	const pid = "C1D2E3-A99968-00A1BM"
	noFocus := cancelstest.TrackerTask(pid, "0002", "", "", nil)
	delete(noFocus, "focus")
	cases := []struct {
		name, body, want string
	}{
		{"empty", ``, "EPS tracker answer"},
		{"not JSON", `<Bundle/>`, "EPS tracker answer"},
		{"not a Bundle", `{"resourceType":"OperationOutcome","issue":[]}`, "want Bundle"},
		{"no resourceType", `{"entry":[]}`, "no resourceType"},
		{"empty searchset", `{"resourceType":"Bundle","type":"searchset"}`, "does not list the prescription"},
		{"Task without prescription id", string(cancelstest.Searchset(t, noFocus)), "no short-form prescription id"},
		{"entry not an object", `{"resourceType":"Bundle","entry":[{"resource":7}]}`, "EPS tracker answer"},
		{"input of the wrong type", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Task","input":"x"}}]}`, "EPS tracker answer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTrackerAnswer([]byte(tc.body), pid)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := ParseTrackerAnswer([]byte(`{"resourceType":"Bundle","type":"searchset"}`), pid); !errors.Is(err, ErrNotInTracker) {
		t.Errorf("empty searchset: %v, want ErrNotInTracker", err)
	}
}

func TestSettledCode(t *testing.T) {
	cases := []struct {
		status, code string
		ok           bool
	}{
		{"0001", "0004", true}, {"0002", "0010", true}, {"0003", "", false}, {"0004", "", false},
		{"0005", "0001", true}, {"0006", "0005", true}, {"0007", "", false}, {"0008", "", false}, {"", "", false}, {"x", "", false},
	}
	for _, tc := range cases {
		if code, ok := settledCode(tc.status); code != tc.code || ok != tc.ok {
			t.Errorf("settledCode(%q) = %q %v, want %q %v", tc.status, code, ok, tc.code, tc.ok)
		}
	}
}

// FuzzParseTrackerAnswer: any answer is read or refused, never a panic,
// and a view read is for the prescription asked about.
func FuzzParseTrackerAnswer(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"searchset"}`), "C1D2E3-A99968-00A1BM")
	f.Add(cancelstest.Searchset(f, cancelstest.TrackerTask("C1D2E3-A99968-00A1BM", "0002", "FCG71", "2024-01-01T00:00:00Z", map[string]string{"a1": "0008"})), "C1D2E3-A99968-00A1BM")
	f.Fuzz(func(t *testing.T, body []byte, pid string) {
		v, err := ParseTrackerAnswer(body, pid)
		if err != nil {
			return
		}
		if v.PrescriptionID != strings.ToUpper(strings.TrimSpace(pid)) {
			t.Fatalf("view of %q for %q", v.PrescriptionID, pid)
		}
		for item := range v.Items {
			v.itemCode(item)
		}
	})
}
