package certfile

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/testpki"
)

// BenchmarkCurrent measures what each use of a followed file costs when
// nothing changed: a Pair (two files) is asked once per TLS handshake, a
// Pool (one file) once per handshake and once per delivery request.
func BenchmarkCurrent(b *testing.B) {
	dir := b.TempDir()
	ca := testpki.NewCA(b, "bench CA")
	c, k := ca.Issue(b, testpki.Cert{Name: "porxgate", Serial: 10})
	certFile, keyFile, caFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem"), filepath.Join(dir, "ca.pem")
	then := time.Now().Add(-time.Hour)
	testpki.WriteDated(b, certFile, c, then)
	testpki.WriteDated(b, keyFile, k, then)
	testpki.WriteDated(b, caFile, ca.PEM, then)
	pair, err := Load(certFile, keyFile, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	pool, err := LoadPool(caFile)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pair", func(b *testing.B) {
		for b.Loop() {
			_ = pair.Current()
		}
	})
	b.Run("pool", func(b *testing.B) {
		for b.Loop() {
			_ = pool.Current()
		}
	})
	b.Run("pool-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = pool.Current()
			}
		})
	})
}
