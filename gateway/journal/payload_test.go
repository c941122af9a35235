package journal

import (
	"context"
	"testing"
	"time"
	"unsafe"
)

// TestPayloadSharesItsBytes: Payload gives a payload's bytes as a Body
// without a copy (the recording of a message's request and answers made
// one per payload), and an empty payload as "".
func TestPayloadSharesItsBytes(t *testing.T) {
	b := []byte(prescriptionV3)
	got := Payload(b)
	if got != prescriptionV3 {
		t.Fatalf("Payload = %.40q…, want the payload", got)
	}
	if unsafe.StringData(got) != unsafe.SliceData(b) {
		t.Error("Payload copied the payload")
	}
	if Payload(nil) != "" || Payload([]byte{}) != "" {
		t.Error("an empty payload is not \"\"")
	}
}

// TestMemoryKeepsABodyOfItsOwn: the memory journal keeps a copy of a step's
// Body, not the buffer Payload shared with it, so what it keeps is what
// it counts, whatever becomes of the buffer after the write (the Redis
// journal writes the bytes out at once).
func TestMemoryKeepsABodyOfItsOwn(t *testing.T) {
	m := NewMemory(Retention{})
	t0 := time.Now().UTC()
	buf := []byte(prescriptionV3 + "<!-- the rest of a larger buffer -->")
	payload := buf[:len(prescriptionV3)]
	ctx := context.Background()
	if err := m.Apply(ctx, Event{Exchange: "M1", At: t0, Interaction: "PORX_IN020101UK31",
		Step: &Step{Kind: StepLegacyRequest, Body: Payload(payload)}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(ctx, Event{Exchange: "M1", At: t0.Add(time.Millisecond),
		Step: &Step{Kind: StepV3Answer, Body: Payload(payload)}}); err != nil {
		t.Fatal(err)
	}
	x, err := m.Get(ctx, "M1")
	if err != nil || x == nil || len(x.Steps) != 2 {
		t.Fatalf("Get(M1) = %+v, %v; want two steps", x, err)
	}
	for i, st := range x.Steps {
		if st.Body != prescriptionV3 {
			t.Fatalf("step %d: Body = %.40q…, want the payload", i, st.Body)
		}
		if p := unsafe.StringData(st.Body); uintptr(unsafe.Pointer(p)) >= uintptr(unsafe.Pointer(unsafe.SliceData(buf))) &&
			uintptr(unsafe.Pointer(p)) < uintptr(unsafe.Pointer(unsafe.SliceData(buf)))+uintptr(len(buf)) {
			t.Errorf("step %d keeps the recorder's buffer, not a Body of its own", i)
		}
	}
}
