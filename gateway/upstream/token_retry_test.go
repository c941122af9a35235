package upstream

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
)

// TestTokenRetryFreshAssertion: the token endpoint took an exchange (its
// jti is spent) but its answer was lost on the way back — the connection
// closed, or a gateway in front of it answered 5xx. The retry must carry a
// newly signed assertion with a fresh jti: the NHS platform refuses a jti
// seen before ("Non-unique 'jti' claim in JWT"), so resending the same
// bytes failed the exchange and every call waiting on it.
func TestTokenRetryFreshAssertion(t *testing.T) {
	tests := []struct {
		name string
		lose func(w http.ResponseWriter)
	}{
		{"answer lost", func(w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
		{"gateway 504", func(w http.ResponseWriter) { w.WriteHeader(http.StatusGatewayTimeout) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := genKey(t)
			s, simRoot := startSim(t, sim.Options{PublicKey: &key.PublicKey, APIKey: "app-key", Kid: "k1"})
			// The first token request reaches the simulator, which issues a
			// token, and its answer is lost.
			var tokenCalls atomic.Int32
			front := lostAnswers(t, simRoot, func(r *http.Request) bool {
				return strings.HasSuffix(r.URL.Path, "/oauth2/token") && tokenCalls.Add(1) == 1
			}, tt.lose)
			cfg := testConfig(front, nil)
			cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL = "app-key", "k1", key, front+"/oauth2/token"
			c := newClient(t, cfg)
			r, err := c.Metadata(context.Background())
			wantStatus(t, "metadata after a lost token answer", r, err, http.StatusOK)
			if n := tokenCalls.Load(); n != 2 {
				t.Fatalf("%d token requests, want 2 (the lost one and its retry)", n)
			}
			if st := s.Stats(); st.TokensIssued != 2 {
				t.Fatalf("simulator issued %d tokens, want 2", st.TokensIssued)
			}
		})
	}
}
