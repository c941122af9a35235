package zzdisp

import (
	"math/rand"
	"os"
	"testing"
	"time"

	"github.com/porxgate/porxgate/mapping"
)

func TestHang(t *testing.T) {
	base, _ := os.ReadFile("/work/main/testdata/dispense/dn-owing.xml")
	r := rand.New(rand.NewSource(1))
	tr := mapping.DispenseTranslator()
	for i := 0; i < 3000; i++ {
		data := append([]byte(nil), base...)
		for k := 0; k < 1+r.Intn(4); k++ {
			p := r.Intn(len(data))
			switch r.Intn(3) {
			case 0:
				data[p] = byte(r.Intn(256))
			case 1:
				data = append(data[:p], data[min(len(data), p+r.Intn(20)):]...)
			case 2:
				q := r.Intn(len(data))
				data = append(data[:p], append(append([]byte(nil), data[q:min(len(data), q+r.Intn(40))]...), data[p:]...)...)
			}
		}
		done := make(chan struct{})
		go func() {
			n := 0; env := mapping.Env{NewID: func() string { n++; return "00000000-0000-4000-8000-" + string(rune(0x30+n%10)) + "0000000000" + string(rune(0x30+n/10%10)) }}
			body, meta, err := tr.ToFHIR(data, env)
			if err == nil {
				if _, err := tr.ToV3(body, meta, env); err != nil {
					t.Errorf("case %d: roundtrip error %v", i, err)
					os.WriteFile("/tmp/rt.xml", data, 0644)
				}
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			os.WriteFile("/tmp/hang.xml", data, 0644)
			t.Fatalf("case %d hangs", i)
		}
	}
}
