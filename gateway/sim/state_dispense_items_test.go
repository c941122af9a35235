package sim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// withoutEntry returns the message Bundle b without its entry i.
func withoutEntry(t *testing.T, b []byte, i int) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	entries := m["entry"].([]any)
	m["entry"] = append(entries[:i:i], entries[i+1:]...)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDispenseReportsEveryItem: a dispense notification, and an amendment,
// must report every line item of the prescription, as Spine requires
// (compare_line_items_for_dispense in eps-spine-shared record.py: the line
// item ids given must be those stored, else ITEM_NOT_FOUND, which the EPS
// API answers as MEDICATIONREQUEST_NOT_FOUND); one that leaves an item out
// is refused and changes nothing. Before, the simulator took a notification
// of one item of two, so a mapping that dropped a line item passed every
// test against it.
func TestDispenseReportsEveryItem(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	post := func(body []byte) answer {
		t.Helper()
		return do(t, http.MethodPost, api+"/$process-message", body, nil)
	}
	dn := func(extra map[string]string) []byte {
		return fixture(t, "dispense-notification.json", p.repl(extra))
	}
	status := func() (string, []string) {
		t.Helper()
		task := trackerTaskOver(t, api, p.sf)
		return businessStatus(task), itemStatuses(task)
	}

	post(fixture(t, "prescription-order.json", p.repl(nil))).want(t, 200, "informational")
	do(t, http.MethodPost, api+"/Task/$release", fixture(t, "release-nominated.json", p.repl(nil)), nil).want(t, 200, "")

	// Entry 2 is the MedicationDispense of ITEM2.
	post(withoutEntry(t, dn(map[string]string{"STATUS1": "0001", "MESSAGEID": "d1"}), 2)).want(t, 400, "MEDICATIONREQUEST_NOT_FOUND")
	if st, items := status(); st != string(StatusWithDispenser) || items[0] != string(ItemWithDispenser) || items[1] != string(ItemWithDispenser) {
		t.Fatalf("after the refused notification: %s %v, want 0002 with both items with the dispenser", st, items)
	}

	post(dn(map[string]string{"STATUS1": "0003", "STATUS2": "0004", "MESSAGEID": "d1"})).want(t, 200, "informational")
	post(withoutEntry(t, dn(map[string]string{"STATUS2": "0001", "MESSAGEID": "d1b", "REPLACES": "d1"}), 1)).want(t, 400, "MEDICATIONREQUEST_NOT_FOUND")
	if st, items := status(); st != string(StatusWithDispenserActive) || items[0] != string(ItemPartial) || items[1] != string(ItemOwing) {
		t.Fatalf("after the refused amendment: %s %v, want 0003 partial/owing", st, items)
	}
	post(dn(map[string]string{"STATUS1": "0001", "STATUS2": "0001", "MESSAGEID": "d2"})).want(t, 200, "informational")
	if st, _ := status(); st != string(StatusDispensed) {
		t.Fatalf("after dispensing both: %s, want 0006", st)
	}
}
